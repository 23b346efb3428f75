{
  description = "ChoirOS hypervisor: the control plane (passkey auth, HTTP/WebSocket proxy into per-user sandboxes, route swap, rollback)";

  # Where nixpkgs cannot be reached, build with `--override-input nixpkgs path:<offline package set>`
  # (nix/README.md; nix/build.ts does it for you). The package definitions are nix/packages.nix.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  outputs = { self, nixpkgs }:
    {
      packages = (import ../nix/flake-outputs.nix { inherit nixpkgs; }).flakePackages "hypervisor";
      # services.choiros-hypervisor (nixos/README.md).
      nixosModules.default = import ./nixos/module.nix;

      # The EC2 host of Phase 4: NixOS's amazon image, the hypervisor enabled, SSH by key only.
      # Its toplevel builds where nixpkgs can be had:
      #   nix build ./hypervisor#nixosConfigurations.choiros-host.config.system.build.toplevel
      nixosConfigurations.choiros-host = nixpkgs.lib.nixosSystem {
        system = "x86_64-linux";
        modules = [
          "${nixpkgs}/nixos/modules/virtualisation/amazon-image.nix"
          self.nixosModules.default
          ./nixos/hosts/choiros-host.nix
          { services.choiros-hypervisor.package = self.packages.x86_64-linux.default; }
        ];
      };
    };
}
