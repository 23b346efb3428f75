{
  description = "ChoirOS gates: the phase gate suites and the hypervisor they verify";

  # The package and NixOS module outputs arrive with Phases 2 and 3; for now a development shell.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forEachSystem = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      devShells = forEachSystem (pkgs: {
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
