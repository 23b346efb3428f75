{
  description = "ChoirOS desktop: the static desktop UI the sandbox serves at /";

  # Offline: `--override-input nixpkgs path:<offline package set>` (nix/README.md).
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forEachSystem = f: builtins.listToAttrs (map (system: { name = system; value = f system; }) systems);
      packagesFor = system: import ../packages.nix { pkgs = nixpkgs.legacyPackages.${system}; };
    in
    {
      packages = forEachSystem (system: {
        default = (packagesFor system).desktop;
        choiros-desktop = (packagesFor system).desktop;
      });
    };
}
