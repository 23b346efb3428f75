# Declarations of the few NixOS options services.choiros-hypervisor sets, for evaluating the module
# with lib.evalModules where nixpkgs (and so NixOS) cannot be had. Types follow NixOS closely enough
# that the module's own option types, defaults and assertions are what gets exercised.
{ lib, ... }:

let
  inherit (lib) mkOption types;
  unitOptions = {
    freeformType = types.attrsOf types.anything;
    options = {
      description = mkOption { type = types.str; default = ""; };
      wantedBy = mkOption { type = types.listOf types.str; default = [ ]; };
      wants = mkOption { type = types.listOf types.str; default = [ ]; };
      after = mkOption { type = types.listOf types.str; default = [ ]; };
      requires = mkOption { type = types.listOf types.str; default = [ ]; };
      environment = mkOption { type = types.attrsOf types.str; default = { }; };
      unitConfig = mkOption { type = types.attrsOf types.anything; default = { }; };
      serviceConfig = mkOption { type = types.attrsOf types.anything; default = { }; };
      socketConfig = mkOption { type = types.attrsOf types.anything; default = { }; };
    };
  };
in
{
  options = {
    assertions = mkOption {
      type = types.listOf (types.submodule { options = { assertion = mkOption { type = types.bool; }; message = mkOption { type = types.str; }; }; });
      default = [ ];
    };
    warnings = mkOption { type = types.listOf types.str; default = [ ]; };
    systemd.services = mkOption { type = types.attrsOf (types.submodule unitOptions); default = { }; };
    systemd.sockets = mkOption { type = types.attrsOf (types.submodule unitOptions); default = { }; };
    users.users = mkOption {
      type = types.attrsOf (types.submodule {
        options = {
          isSystemUser = mkOption { type = types.bool; default = false; };
          group = mkOption { type = types.str; default = ""; };
          home = mkOption { type = types.str; default = "/var/empty"; };
          description = mkOption { type = types.str; default = ""; };
          extraGroups = mkOption { type = types.listOf types.str; default = [ ]; };
        };
      });
      default = { };
    };
    users.groups = mkOption { type = types.attrsOf (types.submodule { }); default = { }; };
    networking.firewall.allowedTCPPorts = mkOption { type = types.listOf types.port; default = [ ]; };
    virtualisation.podman.enable = mkOption { type = types.bool; default = false; };
    virtualisation.podman.package = mkOption { type = types.package; };
  };
}
