{
  description = "ChoirOS desktop: the static desktop UI the sandbox serves at /";

  # Offline: `--override-input nixpkgs path:<offline package set>` (nix/README.md).
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  outputs = { self, nixpkgs }: {
    packages = (import ../flake-outputs.nix { inherit nixpkgs; }).flakePackages "desktop";
  };
}
