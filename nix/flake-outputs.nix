# What the four flakes (./flake.nix, hypervisor/, nix/sandbox/, nix/desktop/) share: the systems they
# build for and the package set of nix/packages.nix. A flake's inputs must be written literally in
# its own flake.nix, so only its outputs come from here.
{ nixpkgs }:
rec {
  systems = [ "x86_64-linux" "aarch64-linux" ];
  forEachSystem = f: builtins.listToAttrs (map (system: { name = system; value = f system; }) systems);
  packagesFor = system: import ./packages.nix { pkgs = nixpkgs.legacyPackages.${system}; };

  # packages.<system>.default and .choiros-<name>: one package of nix/packages.nix as a flake's own.
  flakePackages = name: forEachSystem (system:
    let package = (packagesFor system).${name}; in {
      default = package;
      "choiros-${name}" = package;
    });
}
