{
  description = "ChoirOS gates: the phase gate suites and the hypervisor they verify";

  # The three flakes (hypervisor/, nix/sandbox/, nix/desktop/) are composed here by calling their
  # outputs with this flake's nixpkgs, so one lock file pins them all and none is locked by path.
  # Offline: `--override-input nixpkgs path:<offline package set>` (nix/README.md).
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  outputs = { self, nixpkgs }:
    let
      inherit (import ./nix/flake-outputs.nix { inherit nixpkgs; }) forEachSystem;
      compose = file: let flake = (import file).outputs { self = flake; inherit nixpkgs; }; in flake;
      hypervisor = compose ./hypervisor/flake.nix;
      sandbox = compose ./nix/sandbox/flake.nix;
      desktop = compose ./nix/desktop/flake.nix;
    in
    {
      packages = forEachSystem (system: {
        hypervisor = hypervisor.packages.${system}.default;
        sandbox = sandbox.packages.${system}.default;
        desktop = desktop.packages.${system}.default;
        default = hypervisor.packages.${system}.default;
      });

      devShells = forEachSystem (system:
        let pkgs = nixpkgs.legacyPackages.${system}; in {
          default = pkgs.mkShell {
            packages = [ pkgs.nodejs_24 pkgs.podman pkgs.runc pkgs.chromium pkgs.nginx pkgs.git ];
            shellHook = ''
              export CHROMIUM_PATH=${pkgs.chromium}/bin/chromium
              export CONTAINERS_CONF=$PWD/scripts/containers.conf
            '';
          };
        });
    };
}
