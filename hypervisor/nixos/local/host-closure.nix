# What the local Debian host runs, built with Nix: the hypervisor package and the unit and sysusers
# files rendered from the evaluated module (./evaluate.nix), in one store path whose closure holds
# them all. It stands in for the NixOS toplevel where nixpkgs cannot be had; a host profile points
# at it, and the host's /etc/systemd/system links into that profile (hypervisor/nixos/README.md).
{ lib, package, settingsJSON, busybox }:

let
  settings = builtins.fromJSON settingsJSON;
  evaluated = import ./evaluate.nix {
    inherit lib package;
    configuration = { services.choiros-hypervisor = settings // { enable = true; }; };
  };
  failed = evaluated.failed;
in
if failed != [ ] then throw "Failed assertions:\n${lib.concatMapStringsSep "\n" (m: "- ${m}") failed}"
else derivation {
  name = "choiros-hypervisor-host";
  system = builtins.currentSystem;
  builder = "${busybox}/bin/sh";
  PATH = "${busybox}/bin";
  unit = evaluated.unitText;
  sysusers = evaluated.sysusersText;
  passAsFile = [ "unit" "sysusers" ];
  hypervisor = package;
  args = [ "-e" "-c" ''
    mkdir -p $out/etc/systemd/system $out/lib/sysusers.d
    cp $unitPath $out/etc/systemd/system/choiros-hypervisor.service
    cp $sysusersPath $out/lib/sysusers.d/choiros-hypervisor.conf
    ln -s $hypervisor $out/hypervisor
  '' ];
}
