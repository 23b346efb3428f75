import type { SeededDefect } from '../../integrity/seeded-defect.ts';

/**
 * Phase 3's seeded defects (npm run integrity -- phase3): small mistakes a person could make in the
 * NixOS module (hypervisor/nixos/module.nix), the flake that exports it, the host closure, the
 * hypervisor's own startup, or the runbook the gate runs, and the lines that must catch them. The
 * lines run against a real systemd host (systemd-nspawn) with the closure built by the real nix CLI.
 */

const line = {
  closure: 'NixOS system closure builds for target host config.',
  reliable: 'Hypervisor service starts reliably under systemd.',
  flakeModule: 'Implement `nixosModules.default` in `hypervisor/flake.nix`.',
  service: 'Define hypervisor systemd service.',
  runtime: 'Define container runtime/service integration for sandbox lifecycle.',
  secrets: 'Externalize env and secrets file references.',
  toplevel: '`nix build` toplevel result attached.',
  statusLog: 'Service status/log output attached.',
  generationFallback: 'Document previous generation fallback path.',
} as const;

const module = 'hypervisor/nixos/module.nix';

export const defects: readonly SeededDefect[] = [
  {
    id: 'closure-stamps-build-time',
    what: 'the host closure records when it was built (date > $out/built-at), so it no longer builds reproducibly',
    caughtBy: [line.closure],
    edits: [{ file: 'hypervisor/nixos/local/host-closure.nix', find: '    ln -s $hypervisor $out/hypervisor\n', replace: '    ln -s $hypervisor $out/hypervisor\n    date > $out/built-at\n' }],
  },
  {
    id: 'closure-drops-the-package',
    what: "the unit text's string context is discarded (to silence a passAsFile warning) and the package link removed, so the closure no longer holds the program its unit runs",
    caughtBy: [line.toplevel, line.closure],
    edits: [
      { file: 'hypervisor/nixos/local/host-closure.nix', find: '  unit = evaluated.unitText;', replace: '  unit = builtins.unsafeDiscardStringContext evaluated.unitText;' },
      { file: 'hypervisor/nixos/local/host-closure.nix', find: '  hypervisor = package;\n', replace: '' },
      { file: 'hypervisor/nixos/local/host-closure.nix', find: '    ln -s $hypervisor $out/hypervisor\n', replace: '' },
    ],
  },
  {
    id: 'no-restart-on-failure',
    what: 'the unit loses Restart=on-failure (removed while chasing a restart loop), so a crashed hypervisor stays down',
    caughtBy: [line.service, line.reliable],
    edits: [{ file: module, find: '        Restart = "on-failure";\n        RestartSec = "1s";\n', replace: '' }],
  },
  {
    id: 'restart-limit-from-retain',
    what: 'a copy-paste slip fills SANDBOX_RESTART_LIMIT from knownGoodRetain, so a host that keeps more releases lets a crashing sandbox restart that many times',
    caughtBy: [line.service],
    edits: [{ file: module, find: 'SANDBOX_RESTART_LIMIT = toString cfg.restartLimit;', replace: 'SANDBOX_RESTART_LIMIT = toString cfg.knownGoodRetain;' }],
  },
  {
    id: 'not-wanted-by-multi-user',
    what: 'the unit has no wantedBy (no [Install] section), so it is not enabled and a fresh host does not start it at boot',
    caughtBy: [line.reliable],
    edits: [{ file: module, find: '      wantedBy = [ "multi-user.target" ];\n', replace: '' }],
  },
  {
    id: 'capabilities-kept',
    what: 'CapabilityBoundingSet and AmbientCapabilities are dropped from the hardening (while debugging a bind error), so the service keeps every capability',
    caughtBy: [line.service],
    edits: [{ file: module, find: '        CapabilityBoundingSet = "";\n        AmbientCapabilities = "";\n', replace: '' }],
  },
  {
    id: 'podman-socket-not-ordered',
    what: 'with runtime = "podman" the service is no longer ordered after podman.socket, so at boot it can start before the socket exists',
    caughtBy: [line.runtime],
    edits: [{ file: module, find: '      after = [ "network-online.target" ] ++ optional isPodman "podman.socket";', replace: '      after = [ "network-online.target" ];' }],
  },
  {
    id: 'admin-token-logged',
    what: 'the "admin token ready" log spreads the whole admin settings object, token included, into the journal',
    caughtBy: [line.secrets],
    edits: [{ file: 'hypervisor/app.ts', find: "log.info({ event: 'hypervisor.admin_token', source: config.admin.source, ...(config.admin.tokenFile ? { file: config.admin.tokenFile } : {}) }, 'admin token ready');", replace: "log.info({ event: 'hypervisor.admin_token', ...config.admin }, 'admin token ready');" }],
  },
  {
    id: 'journal-silenced',
    what: "the unit sends the hypervisor's stdout to /dev/null (\"too chatty\"), so its JSON logs never reach the journal",
    caughtBy: [line.statusLog],
    edits: [{ file: module, find: '        KillSignal = "SIGTERM";\n', replace: '        KillSignal = "SIGTERM";\n        StandardOutput = "null";\n' }],
  },
  {
    id: 'flake-module-renamed',
    what: 'the flake exports the module as nixosModules.choiros-hypervisor instead of nixosModules.default',
    caughtBy: [line.flakeModule],
    edits: [
      { file: 'hypervisor/flake.nix', find: '      nixosModules.default = import ./nixos/module.nix;', replace: '      nixosModules.choiros-hypervisor = import ./nixos/module.nix;' },
      { file: 'hypervisor/flake.nix', find: '          self.nixosModules.default\n', replace: '          self.nixosModules.choiros-hypervisor\n' },
    ],
  },
  {
    id: 'rollback-without-restart',
    what: "the runbook's rollback switches the profile back but no longer restarts the service, so generation N+1 keeps running",
    caughtBy: [line.generationFallback],
    edits: [{ file: 'hypervisor/nixos/README.md', find: 'nix-env --profile "$PROFILE" --rollback\non_host systemctl daemon-reload\non_host systemctl restart choiros-hypervisor\n', replace: 'nix-env --profile "$PROFILE" --rollback\non_host systemctl daemon-reload\n' }],
  },
  {
    id: 'podman-socket-other-group',
    what: "podman's API socket is given to the wheel group, which the hypervisor's user is not in, so with runtime = \"podman\" no sandbox can start",
    caughtBy: [line.runtime],
    edits: [{ file: module, find: 'SocketMode = "0660"; SocketGroup = "podman";', replace: 'SocketMode = "0660"; SocketGroup = "wheel";' }],
  },
  {
    id: 'token-in-store-accepted',
    what: 'the assertion that keeps the admin token file out of the world-readable Nix store is weakened to always hold',
    caughtBy: [line.secrets],
    edits: [{ file: module, find: 'assertion = !(inStore cfg.adminTokenFile);', replace: 'assertion = true;' }],
  },
  {
    id: 'cloudwatch-host-from-namespace',
    what: "a copy-paste slip fills HYPERVISOR_CLOUDWATCH_HOST from cloudwatch.namespace, so every host publishes under the same Host dimension and the runtime metrics snapshot reads the wrong host's figures",
    caughtBy: [line.service],
    edits: [{ file: module, find: 'HYPERVISOR_CLOUDWATCH_HOST = cw.host;', replace: 'HYPERVISOR_CLOUDWATCH_HOST = cw.namespace;' }],
  },
  {
    id: 'rp-origin-host-infix',
    what: 'the rpOrigin/rpId assertion is "simplified" to the host containing rpId anywhere, so https://choir.example.com.attacker.test (or evilchoir.example.com) passes evaluation and passkeys fail only in the browser',
    caughtBy: [line.flakeModule],
    edits: [{ file: module, find: 'lib.hasSuffix ".${cfg.webauthn.rpId}" rpHost', replace: 'lib.hasInfix cfg.webauthn.rpId rpHost' }],
  },
  {
    id: 'state-paths-database-only',
    what: 'the state-directory assertion checks only databasePath, so a dataRoot outside /var/lib/choiros-hypervisor is accepted although ProtectSystem=strict lets the unit write nowhere else',
    caughtBy: [line.service],
    edits: [{ file: module, find: 'assertion = lib.hasPrefix "${stateDir}/" (toString cfg.databasePath) && lib.hasPrefix "${stateDir}/" (toString cfg.dataRoot);', replace: 'assertion = lib.hasPrefix "${stateDir}/" (toString cfg.databasePath);' }],
  },
  {
    id: 'address-families-netlink-for-unix',
    what: 'RestrictAddressFamilies lists AF_NETLINK where AF_UNIX was (thought to be what podman needs), so with runtime = "podman" the hypervisor\'s podman client cannot open the API socket',
    caughtBy: [line.runtime],
    edits: [{ file: module, find: 'RestrictAddressFamilies = [ "AF_INET" "AF_INET6" "AF_UNIX" ];', replace: 'RestrictAddressFamilies = [ "AF_INET" "AF_INET6" "AF_NETLINK" ];' }],
  },
  {
    id: 'umask-group-readable',
    what: "the unit's UMask is 0027 (\"the group is only the service's own\"), so the database and sandbox data the hypervisor creates are group-readable",
    caughtBy: [line.service],
    edits: [{ file: module, find: 'UMask = "0077";', replace: 'UMask = "0027";' }],
  },
  {
    id: 'aws-credentials-unloaded-name',
    what: 'AWS_SHARED_CREDENTIALS_FILE points into the credentials directory at "aws-credentials", a name no LoadCredential loads (the credential is cloudwatch-credentials), so the AWS SDK finds no file and CloudWatch publishing has no credentials',
    caughtBy: [line.secrets],
    edits: [{ file: module, find: 'AWS_SHARED_CREDENTIALS_FILE = "%d/${cwCredential}";', replace: 'AWS_SHARED_CREDENTIALS_FILE = "%d/aws-credentials";' }],
  },
  {
    id: 'assert-first-credential-only',
    what: 'AssertPathExists is given only the first credential source ("systemd takes one path there"), so a missing CloudWatch credentials file fails the start as systemd\'s bare "Protocol error", naming no file',
    caughtBy: [line.secrets, line.statusLog],
    edits: [{ file: module, find: 'AssertPathExists = map toString credentialSources;', replace: 'AssertPathExists = toString (builtins.head credentialSources);' }],
  },
  {
    id: 'namespace-check-lower-cased',
    what: 'the reserved-namespace assertion lower-cases the namespace before looking for AWS/ (meant as "case-insensitive"), so no namespace ever matches and AWS/EC2 is accepted, to be refused by every PutMetricData at run time',
    caughtBy: [line.flakeModule],
    edits: [{ file: module, find: 'assertion = !(lib.hasPrefix "AWS/" cw.namespace);', replace: 'assertion = !(lib.hasPrefix "AWS/" (lib.toLower cw.namespace));' }],
  },  {
    id: 'firewall-port-always-open',
    what: 'the firewall line is simplified to a plain list ("the port is opened anyway behind a cloud firewall"), so every host opens the hypervisor port whatever openFirewall says, the default included',
    caughtBy: [line.flakeModule],
    edits: [{ file: module, find: 'networking.firewall.allowedTCPPorts = optional cfg.openFirewall cfg.port;', replace: 'networking.firewall.allowedTCPPorts = [ cfg.port ];' }],
  },
  {
    id: 'unit-type-left-to-systemd',
    what: "the unit's Type line is removed (\"systemd's default will do\"), so the service is Type=simple: `systemctl start` succeeds as soon as systemd forked, even when the hypervisor cannot be executed",
    caughtBy: [line.reliable],
    edits: [{ file: module, find: '        Type = "exec";\n', replace: '' }],
  },
  {
    id: 'default-rp-origin-fixed-port',
    what: 'the webauthn.rpOrigin default names the port literally (http://localhost:9090): on any other port the origin browsers send never matches it, so every passkey ceremony is refused, and defaultText (which follows the port) no longer says what the default is',
    caughtBy: [line.flakeModule, line.secrets],
    edits: [{ file: module, find: 'default = if cfg.port == 80 then "http://localhost" else "http://localhost:${toString cfg.port}";', replace: 'default = "http://localhost:9090";' }],
  },
  {
    id: 'runbook-nixos-rollback-profile-only',
    what: "the NixOS fallback goes back by moving the system profile with nix-env: generation N becomes the profile's current one, but nothing is activated or restarted now, and the health check that follows still answers N+1's version",
    caughtBy: [line.generationFallback],
    edits: [{ file: 'hypervisor/nixos/README.md', find: 'nixos-rebuild switch --rollback                         # back to N', replace: 'nix-env --profile /nix/var/nix/profiles/system --rollback # back to N' }],
  },
  {
    id: 'default-host-all-interfaces',
    what: 'the host option defaults to 0.0.0.0 ("so it works on EC2 out of the box"), so a host that sets nothing serves the hypervisor on every interface instead of loopback behind its TLS proxy',
    caughtBy: [line.service],
    edits: [{ file: module, find: '      default = "127.0.0.1";\n      example = "0.0.0.0";', replace: '      default = "0.0.0.0";\n      example = "0.0.0.0";' }],
  },
  {
    id: 'default-ready-timeout-tenfold-short',
    what: 'readyTimeout defaults to 3 seconds (a 0 lost from 30), so on a host that keeps the default every sandbox slower than 3 s to answer its health check is given up',
    caughtBy: [line.service],
    edits: [{ file: module, find: '      default = 30;\n      description = "Seconds a starting sandbox', replace: '      default = 3;\n      description = "Seconds a starting sandbox' }],
  },
  {
    id: 'protect-system-full',
    what: 'ProtectSystem is "full" instead of "strict" (the usual example), so the unit may write anywhere but /usr, /boot and /etc; the exposure (1.5) stays far under the 3.0 bound',
    caughtBy: [line.service],
    edits: [{ file: module, find: 'ProtectSystem = "strict";', replace: 'ProtectSystem = "full";' }],
  },
  {
    id: 'network-online-not-wanted',
    what: 'the unit keeps After=network-online.target but loses Wants= ("after is enough"), so nothing pulls network-online.target into the boot and the hypervisor may start before the network is up',
    caughtBy: [line.service],
    edits: [{ file: module, find: '      wants = [ "network-online.target" ];\n', replace: '' }],
  },
  {
    id: 'cloudwatch-warning-inverted',
    what: 'the "set but not enabled" warning is given when publishing is on ("warn about what is published"), so an operator who set a region but forgot cloudwatch.enable is told nothing, and every publishing host gets a false warning',
    caughtBy: [line.flakeModule],
    edits: [{ file: module, find: 'warnings = optional (!cw.enable && (', replace: 'warnings = optional (cw.enable && (' }],
  },
  {
    id: 'cloudwatch-credential-loaded-while-off',
    what: 'the CloudWatch LoadCredential loses its cw.enable condition, so with publishing off a leftover credentialsFile is still loaded (and a missing one fails the start as a bare "Protocol error") although nothing publishes',
    caughtBy: [line.flakeModule],
    edits: [{ file: module, find: '++ optional (cw.enable && cw.credentialsFile != null) "${cwCredential}', replace: '++ optional (cw.credentialsFile != null) "${cwCredential}' }],
  },
  {
    id: 'podman-group-for-every-runtime',
    what: 'the hypervisor\'s user is put in the podman group whatever the runtime ("it does no harm"), so with runtime = "process" it still holds access to podman\'s API socket, root on the host in all but name, wherever podman is enabled',
    caughtBy: [line.runtime],
    edits: [{ file: module, find: 'extraGroups = optional isPodman "podman";', replace: 'extraGroups = [ "podman" ];' }],
  },
  {
    id: 'target-host-ssh-passwords',
    what: 'the target host allows SSH passwords again (PasswordAuthentication = true, left from a first login on the console), so the public EC2 host can be brute-forced over SSH',
    caughtBy: [line.flakeModule],
    edits: [{ file: 'hypervisor/nixos/hosts/choiros-host.nix', find: 'PasswordAuthentication = false;', replace: 'PasswordAuthentication = true;' }],
  },
  {
    id: 'target-host-origin-names-ip',
    what: 'the target host\'s rpOrigin names the loopback address it was tried on (http://127.0.0.1:9090), so the module refuses it for rpId choiros-host and the host configuration does not build',
    caughtBy: [line.flakeModule],
    edits: [{ file: 'hypervisor/nixos/hosts/choiros-host.nix', find: 'rpOrigin = "http://choiros-host:9090";', replace: 'rpOrigin = "http://127.0.0.1:9090";' }],
  },
  {
    id: 'stop-timeout-range-past-hypervisor',
    what: 'stopTimeout is widened to types.ints.between 1 3600 ("some sandboxes take long to stop"), while the hypervisor accepts at most 300: a host setting 600 builds, and the service refuses SANDBOX_STOP_TIMEOUT_SECS at every start',
    caughtBy: [line.flakeModule],
    edits: [{ file: module, find: 'type = types.ints.between 1 300;', replace: 'type = types.ints.between 1 3600;' }],
  },
  {
    id: 'admin-credential-without-file',
    what: 'the admin-token LoadCredential loses its null check ("the host always sets adminTokenFile"), so a host that leaves adminTokenFile null gets LoadCredential=admin-token: with no source, and systemd refuses to start the hypervisor instead of letting it generate its token',
    caughtBy: [line.secrets],
    edits: [{ file: module, find: 'LoadCredential = optional (cfg.adminTokenFile != null) "admin-token:${toString cfg.adminTokenFile}"', replace: 'LoadCredential = [ "admin-token:${toString cfg.adminTokenFile}" ]' }],
  },
  {
    id: 'firewall-loopback-by-address-only',
    what: 'the openFirewall/loopback assertion knows only the loopback addresses, not the name localhost, so host = "localhost" with openFirewall = true builds and opens a port nothing outside can reach',
    caughtBy: [line.flakeModule],
    edits: [{ file: module, find: 'isLoopback = builtins.elem cfg.host [ "127.0.0.1" "::1" "localhost" ];', replace: 'isLoopback = builtins.elem cfg.host [ "127.0.0.1" "::1" ];' }],
  },
  {
    id: 'rp-id-ip-check-digits-only',
    what: 'the rpId-is-an-IP assertion matches digits only (no dots), so rpId = "10.0.0.1" with a matching origin builds, and the hypervisor refuses WEBAUTHN_RP_ID at every start',
    caughtBy: [line.flakeModule],
    edits: [{ file: module, find: 'assertion = builtins.match "[0-9.]+" cfg.webauthn.rpId == null;', replace: 'assertion = builtins.match "[0-9]+" cfg.webauthn.rpId == null;' }],
  },
  {
    id: 'service-user-normal',
    what: 'the hypervisor\'s user loses isSystemUser (set to false while copying an operator account), so NixOS refuses the system (a user must be a system or a normal one) and the Debian stand-in, whose sysusers makes every user a system one, would never show it',
    caughtBy: [line.service],
    edits: [{ file: module, find: '      isSystemUser = true;\n', replace: '      isSystemUser = false;\n' }],
  },
  // round-9 miss: the NixOS fallback deploying a configuration the flake does not have
  {
    id: 'flake-host-configuration-renamed',
    what: 'hypervisor/flake.nix names its NixOS configuration after the project (nixosConfigurations.choiros) while the runbook still deploys .#choiros-host: the documented deploy of generation N+1 fails with "flake does not provide attribute", so the NixOS fallback cannot be followed as written',
    caughtBy: [line.generationFallback],
    edits: [{ file: 'hypervisor/flake.nix', find: '      nixosConfigurations.choiros-host = nixpkgs.lib.nixosSystem {', replace: '      nixosConfigurations.choiros = nixpkgs.lib.nixosSystem {' }],
  },
  // a10p23: text options whose type lets through what the hypervisor refuses at start (mutation walk of module.nix)
  {
    id: 'bind-host-any-string',
    what: 'host goes back to types.str (as it was before this audit), so a host file binding "choiros_host" or "https://choiros-host" builds, and the hypervisor refuses HYPERVISOR_HOST at every start',
    caughtBy: [line.flakeModule],
    edits: [{ file: module, find: '      type = types.strMatching "[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?|([0-9a-fA-F]{0,4}:){2,7}([0-9a-fA-F]{0,4}|[0-9]+(\\\\.[0-9]+){3})";', replace: '      type = types.str;' }],
  },
  {
    id: 'sandbox-image-any-string',
    what: 'sandboxImage is any string again (types.nullOr types.str), so "Localhost/choir-sandbox:0.1.0" (a capital) builds, and the podman-runtime hypervisor refuses SANDBOX_CONTAINER_IMAGE at every start',
    caughtBy: [line.flakeModule],
    edits: [{ file: module, find: 'type = types.nullOr (types.strMatching "[a-z0-9][a-z0-9._/:-]*(@sha256:[a-f0-9]{64})?|[a-f0-9]{12,64}");', replace: 'type = types.nullOr types.str;' }],
  },
  {
    id: 'cloudwatch-region-one-part-name',
    what: 'the region type wants exactly one word between the country and the number ([a-z]{2}-[a-z]+-[0-9]), so a host publishing to us-gov-west-1, which the hypervisor and CloudWatch take, does not build',
    caughtBy: [line.flakeModule],
    edits: [{ file: module, find: 'type = types.nullOr (types.strMatching "[a-z]{2}(-[a-z]+)+-[0-9]");', replace: 'type = types.nullOr (types.strMatching "[a-z]{2}-[a-z]+-[0-9]");' }],
  },
  {
    id: 'cloudwatch-host-unbounded',
    what: 'cloudwatch.host loses its length bound ([!-~]+), so a 256-character Host dimension builds, and the hypervisor refuses HYPERVISOR_CLOUDWATCH_HOST at every start',
    caughtBy: [line.flakeModule],
    edits: [{ file: module, find: 'type = types.nullOr (types.strMatching "[!-~]{1,255}");', replace: 'type = types.nullOr (types.strMatching "[!-~]+");' }],
  },
  {
    id: 'kill-signal-sigkill',
    what: 'KillSignal becomes SIGKILL ("stop faster"), so systemctl stop kills the hypervisor without its SIGTERM handling: the stop ends as Result=signal, not a clean stop',
    caughtBy: [line.reliable],
    edits: [{ file: module, find: '        KillSignal = "SIGTERM";\n', replace: '        KillSignal = "SIGKILL";\n' }],
  },
  {
    id: 'runbook-health-check-wrong-port',
    what: 'the NixOS fallback\'s health check asks port 8080 (the proxy port of another runbook) while choiros-host serves the hypervisor on 9090: after `nixos-rebuild switch --rollback` the operator\'s check answers nothing, and a good rollback reads as a failed one',
    caughtBy: [line.generationFallback],
    edits: [{ file: 'hypervisor/nixos/README.md', find: 'curl -s http://127.0.0.1:9090/health ', replace: 'curl -s http://127.0.0.1:8080/health ' }],
  },
  {
    id: 'syscall-filter-kills',
    what: 'SystemCallErrorNumber = "EPERM" is dropped as redundant hardening ("the filter already refuses"), so a system call outside @system-service no longer fails with EPERM but kills the process with SIGSYS: Node raises its open-file limit at start (setrlimit, in the filtered @resources), and the hypervisor dies before it listens',
    caughtBy: [line.reliable],
    edits: [{ file: module, find: '        SystemCallErrorNumber = "EPERM";\n', replace: '' }],
  },
  {
    id: 'rp-origin-any-port',
    what: 'the canonical-origin check of rpOrigin and the CloudWatch endpoint is dropped (the types "already check the shape"), so rpOrigin = "https://choir.example.com:443" builds, and the hypervisor, which takes an origin only as a browser sends it, refuses WEBAUTHN_RP_ORIGIN at every start',
    caughtBy: [line.flakeModule],
    edits: [{ file: module, find: 'in m != null && (port == null || (lib.toInt port <= 65535 && port != (if builtins.head m == "https" then "443" else "80")));', replace: 'in m != null || true;' }],
  },
  {
    id: 'target-host-image-without-localhost',
    what: 'the target host names its sandbox image "choir-sandbox:0.1.0" without localhost/: podman looks it up in a registry, where it is not, so on the EC2 host every sandbox start fails to pull while the build passes',
    caughtBy: [line.flakeModule],
    edits: [{ file: 'hypervisor/nixos/hosts/choiros-host.nix', find: 'sandboxImage = "localhost/choir-sandbox:0.1.0";', replace: 'sandboxImage = "choir-sandbox:0.1.0";' }],
  },
  // session 6 review: the loose IPv6 form
  {
    id: 'bind-host-ipv6-form-takes-a-port',
    what: 'the host type\'s IPv6 form is any run of hex digits, dots and colons, so "0.0.0.0:9090" (a port typed into host) builds, and the hypervisor refuses HYPERVISOR_HOST at every start',
    caughtBy: [line.flakeModule],
    edits: [{ file: module, find: '|([0-9a-fA-F]{0,4}:){2,7}([0-9a-fA-F]{0,4}|[0-9]+(\\\\.[0-9]+){3})";', replace: '|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*";' }],
  },
  // round 11 (unseen) misses, each now checked by its line
  {
    id: 'sysusers-membership-reversed',
    what: 'the rendered sysusers.d membership line is written "m GROUP USER" instead of "m USER GROUP", so with runtime = "podman" the hypervisor\'s user is never put in the podman group and cannot open podman\'s socket',
    caughtBy: [line.runtime],
    edits: [{ file: 'hypervisor/nixos/local/render-unit.nix', find: 'map (g: "m ${name} ${g}") u.extraGroups', replace: 'map (g: "m ${g} ${name}") u.extraGroups' }],
  },
  {
    id: 'sysusers-user-without-home',
    what: 'the rendered sysusers.d "u" line leaves out the home directory (the StateDirectory makes the directory anyway), so systemd-sysusers creates the service user with home / instead of the module\'s /var/lib/choiros-hypervisor',
    caughtBy: [line.service],
    edits: [{ file: 'hypervisor/nixos/local/render-unit.nix', find: '[ "u ${name} -:${u.group} \\"${u.description}\\" ${u.home}" ]', replace: '[ "u ${name} -:${u.group} \\"${u.description}\\"" ]' }],
  },
  {
    id: 'unit-environment-specifiers-escaped',
    what: 'the unit renderer escapes every % in an Environment= value as %% (to keep values literal), so systemd no longer expands %d and the service reads AWS_SHARED_CREDENTIALS_FILE as the literal "%d/cloudwatch-credentials", a file that does not exist',
    caughtBy: [line.service],
    edits: [{ file: 'hypervisor/nixos/local/render-unit.nix', find: 'quoteEnv = name: v: "\\"${name}=${v}\\"";', replace: 'quoteEnv = name: v: "\\"${name}=${lib.replaceStrings [ "%" ] [ "%%" ] v}\\"";' }],
  },
  {
    id: 'closure-paths-direct-references',
    what: 'the host closure\'s path list is read with nix-store -q --references instead of -qR: it leaves out the closure itself and every indirect dependency, so the attached list and the secret search over it miss most of what the host runs',
    caughtBy: [line.closure],
    edits: [{ file: 'hypervisor/nixos/host-closure.ts', find: "(await execa('nix-store', ['-qR', outPath]))", replace: "(await execa('nix-store', ['-q', '--references', outPath]))" }],
  },
  {
    id: 'cloudwatch-interval-default-five-minutes',
    what: "cloudwatch.intervalSecs defaults to 300 (CloudWatch's standard five-minute resolution) while the hypervisor's own default and the figures' documented cadence is 60 s, so a host that enables publishing with only a region sends a batch every five minutes",
    caughtBy: [line.flakeModule],
    edits: [{ file: module, find: '        type = types.ints.between 1 3600;\n        default = 60;', replace: '        type = types.ints.between 1 3600;\n        default = 300;' }],
  },
  {
    id: 'cloudwatch-credentials-file-always-named',
    what: "AWS_SHARED_CREDENTIALS_FILE is set whenever publishing is on, credentialsFile given or not, so a host on the EC2 instance role (credentialsFile null) points the SDK at a credentials file that was never loaded and publishes nothing",
    caughtBy: [line.flakeModule],
    edits: [{ file: module, find: '      } // optionalAttrs (cw.credentialsFile != null) {\n        # A path, not the keys', replace: '      } // optionalAttrs cw.enable {\n        # A path, not the keys' }],
  },
];
