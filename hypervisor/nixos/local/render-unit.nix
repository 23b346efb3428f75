# Renders an evaluated systemd.services.<name> to a unit file and its users to a sysusers.d file,
# the way NixOS's systemd-lib does (lists become repeated lines, booleans yes/no, environment
# becomes Environment= lines), so the Debian host runs what NixOS would run.
{ lib }:

let
  inherit (lib) concatStringsSep concatMap mapAttrsToList optional;
  value = v: if builtins.isBool v then (if v then "yes" else "no") else toString v;
  lines = name: v: if builtins.isList v then map (item: "${name}=${value item}") v else [ "${name}=${value v}" ];
  section = title: attrs: [ "[${title}]" ] ++ concatMap (name: lines name attrs.${name}) (builtins.attrNames attrs);
  quoteEnv = name: v: "\"${name}=${v}\"";
in
{
  unit = service:
    let
      unitSection = lib.filterAttrs (_: v: v != [ ] && v != "") {
        Description = service.description;
        Wants = concatStringsSep " " service.wants;
        After = concatStringsSep " " service.after;
        Requires = concatStringsSep " " service.requires;
      } // service.unitConfig;
      serviceSection = lib.filterAttrs (_: v: v != [ ]) service.serviceConfig // {
        Environment = mapAttrsToList quoteEnv service.environment;
      };
      installSection = lib.optionalAttrs (service.wantedBy != [ ]) { WantedBy = concatStringsSep " " service.wantedBy; };
    in
    concatStringsSep "\n" (section "Unit" unitSection ++ [ "" ] ++ section "Service" serviceSection
      ++ lib.optionals (installSection != { }) ([ "" ] ++ section "Install" installSection)) + "\n";

  sysusers = users: groups:
    concatStringsSep "\n" (
      mapAttrsToList (name: _: "g ${name} -") groups
      ++ concatMap (name: let u = users.${name}; in
        [ "u ${name} -:${u.group} \"${u.description}\" ${u.home}" ] ++ map (g: "m ${name} ${g}") u.extraGroups)
        (builtins.attrNames users)
    ) + "\n";
}
