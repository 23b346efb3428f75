{
  description = "ChoirOS sandbox: the per-user workload the hypervisor runs as `live` and `dev`";

  # Offline: `--override-input nixpkgs path:<offline package set>` (nix/README.md).
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  outputs = { self, nixpkgs }: {
    packages = (import ../flake-outputs.nix { inherit nixpkgs; }).flakePackages "sandbox";
  };
}
