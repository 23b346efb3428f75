{
  description = "ChoirOS hypervisor: the control plane (passkey auth, HTTP/WebSocket proxy into per-user sandboxes, route swap, rollback)";

  # Where nixpkgs cannot be reached, build with `--override-input nixpkgs path:<offline package set>`
  # (nix/README.md; nix/build.ts does it for you). The package definitions are nix/packages.nix.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forEachSystem = f: builtins.listToAttrs (map (system: { name = system; value = f system; }) systems);
      packagesFor = system: import ../nix/packages.nix { pkgs = nixpkgs.legacyPackages.${system}; };
    in
    {
      packages = forEachSystem (system: {
        default = (packagesFor system).hypervisor;
        choiros-hypervisor = (packagesFor system).hypervisor;
      });
      # Phase 3 adds nixosModules.default here, from ./nixos/module.nix.
    };
}
