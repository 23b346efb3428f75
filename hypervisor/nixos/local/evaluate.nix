# Evaluates services.choiros-hypervisor with lib.evalModules against the NixOS option declarations
# in ./nixos-options.nix, and renders what the local Debian host installs from it.
# `configuration` is a module (an attribute set or a function) setting services.choiros-hypervisor;
# `package` is the hypervisor package (a stand-in derivation when only the evaluation matters).
{ lib, configuration, module ? ../module.nix, package ? { type = "derivation"; name = "choiros-hypervisor"; outPath = "/nix/store/00000000000000000000000000000000-choiros-hypervisor"; }, podmanPackage ? { type = "derivation"; name = "podman"; outPath = "/nonexistent/podman"; } }:

let
  evaluated = lib.evalModules {
    modules = [
      ./nixos-options.nix
      module
      { _module.args.pkgs = { }; virtualisation.podman.package = lib.mkDefault podmanPackage; services.choiros-hypervisor.package = lib.mkDefault package; }
      configuration
    ];
  };
  inherit (evaluated) config;
  render = import ./render-unit.nix { inherit lib; };
  failed = map (a: a.message) (builtins.filter (a: !a.assertion) config.assertions);
  service = config.systemd.services.choiros-hypervisor;
  # What an option's documentation says its default is (the text of a literalExpression or literalMD,
  # or a plain string), null when it states none, so a check can hold it against the evaluated default;
  # and the kind of that text (its _type: only a literalExpression's text is Nix, a literalMD's is
  # Markdown; null for a plain string), so a check evaluates only what is an expression.
  defaultTextOf = option: if !(option ? defaultText) then null
    else if builtins.isAttrs option.defaultText then option.defaultText.text or null
    else option.defaultText;
  defaultTextTypeOf = option: if option ? defaultText && builtins.isAttrs option.defaultText then option.defaultText._type or null else null;
  # Every declared option of the module with its description (which names the variable it sets),
  # so a check can derive the option -> variable table from the module itself.
  describe = prefix: declared: lib.concatLists (lib.mapAttrsToList (name: option:
    if lib.isOption option then [ { path = prefix ++ [ name ]; description = option.description or ""; defaultText = defaultTextOf option; defaultTextType = defaultTextTypeOf option; } ]
    else describe (prefix ++ [ name ]) option) declared);
in
{
  inherit failed;
  inherit (config) warnings;
  enabled = config.services.choiros-hypervisor.enable;
  options = builtins.removeAttrs config.services.choiros-hypervisor [ "package" ];
  optionDescriptions = describe [ ] evaluated.options.services.choiros-hypervisor;
  service = { inherit (service) description wantedBy wants after requires environment serviceConfig unitConfig; };
  firewall = config.networking.firewall.allowedTCPPorts;
  podmanEnabled = config.virtualisation.podman.enable;
  # Podman's API socket as the module configures it (who may connect), when it configures one.
  podmanSocket = (config.systemd.sockets.podman or { socketConfig = { }; }).socketConfig;
  users = config.users.users;
  unitText = render.unit service;
  sysusersText = render.sysusers config.users.users config.users.groups;
}
