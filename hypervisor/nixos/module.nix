# services.choiros-hypervisor: the ChoirOS hypervisor as a hardened systemd service.
# Every option maps to one variable the hypervisor reads (hypervisor/config.ts); secrets reach it
# only as systemd credentials (LoadCredential), read from $CREDENTIALS_DIRECTORY, never through the
# Nix store or the unit's Environment.
{ config, lib, pkgs, ... }:

let
  inherit (lib) mkEnableOption mkIf mkOption types optional optionalAttrs;
  cfg = config.services.choiros-hypervisor;
  stateDir = "/var/lib/choiros-hypervisor";
  isPodman = cfg.runtime == "podman";
  originHost = origin: let m = builtins.match "https?://([^/:]+)(:[0-9]+)?/?" origin; in if m == null then null else builtins.head m;
  rpHost = originHost cfg.webauthn.rpOrigin;
  hostMatchesRpId = rpHost != null && (rpHost == cfg.webauthn.rpId || lib.hasSuffix ".${cfg.webauthn.rpId}" rpHost);
  # An origin as the hypervisor takes it (readOrigin in hypervisor/config.ts: what URL makes of it),
  # for the mistakes a host file makes: a lower-case host, a port in range without a leading zero and
  # never the scheme's default. Not URL's whole normalisation (short or hex IPv4 forms pass here and are
  # refused at start; see the Phase 3 promise map).
  isCanonicalOrigin = origin:
    let
      m = builtins.match "(https?)://([a-z0-9.-]+|\\[[0-9a-f:.]+])(:(0|[1-9][0-9]{0,4}))?/?" origin;
      port = builtins.elemAt m 3;
    in m != null && (port == null || (lib.toInt port <= 65535 && port != (if builtins.head m == "https" then "443" else "80")));
  isLoopback = builtins.elem cfg.host [ "127.0.0.1" "::1" "localhost" ];
  inStore = file: file != null && lib.hasPrefix builtins.storeDir (toString file);
  cw = cfg.cloudwatch;
  # The credential's name under $CREDENTIALS_DIRECTORY (%d in the unit), where the AWS SDK is pointed.
  cwCredential = "cloudwatch-credentials";
  # What the unit asserts exists before LoadCredential reads it (systemd 252 reports a missing source
  # only as "Protocol error").
  credentialSources = lib.filter (file: file != null) [ cfg.adminTokenFile (if cw.enable then cw.credentialsFile else null) ];
in
{
  options.services.choiros-hypervisor = {
    enable = mkEnableOption "the ChoirOS hypervisor (passkey auth, per-user live/dev sandboxes, route swap and rollback)";

    package = mkOption {
      type = types.package;
      description = "The hypervisor package; its bin/choiros-hypervisor is started.";
    };

    host = mkOption {
      # What the hypervisor binds (hypervisor/config.ts): a host name or an IP address (IPv6 by its colons).
      # The IPv6 form is groups of hex and colons (an IPv4 tail allowed), so "0.0.0.0:9090" (a port typed into host) is refused.
      type = types.strMatching "[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?|([0-9a-fA-F]{0,4}:){2,7}([0-9a-fA-F]{0,4}|[0-9]+(\\.[0-9]+){3})";
      default = "127.0.0.1";
      example = "0.0.0.0";
      description = "Address the hypervisor binds (HYPERVISOR_HOST). Keep loopback behind a TLS proxy.";
    };

    port = mkOption {
      type = types.port;
      default = 9090;
      description = "TCP port the hypervisor listens on (HYPERVISOR_PORT).";
    };

    openFirewall = mkOption {
      type = types.bool;
      default = false;
      description = "Open `port` in the NixOS firewall. Only meaningful when `host` is not a loopback address.";
    };

    databasePath = mkOption {
      type = types.path;
      default = "${stateDir}/hypervisor.db";
      description = "SQLite database of users, passkeys, sessions, route pointers and releases (HYPERVISOR_DATABASE_URL=sqlite:PATH). Must be under the state directory.";
    };

    dataRoot = mkOption {
      type = types.path;
      default = "${stateDir}/sandboxes";
      description = "Per-user, per-role sandbox data, mounted at /data in each sandbox (SANDBOX_DATA_ROOT). Must be under the state directory.";
    };

    runtime = mkOption {
      type = types.enum [ "process" "podman" ];
      default = "process";
      description = ''
        How sandboxes run (SANDBOX_RUNTIME): `podman` containers (the module then enables podman and
        reaches it through podman's socket-activated API service, so the hypervisor's own unit needs
        no container privileges), or `process`, direct child processes (the fallback).
      '';
    };

    sandboxImage = mkOption {
      # The hypervisor's image-reference rule (hypervisor/config.ts): lower case, no spaces, an optional digest; or an image id.
      type = types.nullOr (types.strMatching "[a-z0-9][a-z0-9._/:-]*(@sha256:[a-f0-9]{64})?|[a-f0-9]{12,64}");
      default = null;
      example = "localhost/choir-sandbox:0.1.0";
      description = "Sandbox image for the podman runtime (SANDBOX_CONTAINER_IMAGE); required when runtime = \"podman\".";
    };

    idleTimeout = mkOption {
      type = types.ints.between 0 604800;
      default = 1800;
      description = "Seconds after which an idle sandbox is stopped; 0 never stops them (SANDBOX_IDLE_TIMEOUT_SECS).";
    };

    readyTimeout = mkOption {
      type = types.ints.between 1 600;
      default = 30;
      description = "Seconds a starting sandbox has to answer its health check (SANDBOX_READY_TIMEOUT_SECS).";
    };

    stopTimeout = mkOption {
      type = types.ints.between 1 300;
      default = 5;
      description = "Seconds a stopping sandbox gets before it is killed (SANDBOX_STOP_TIMEOUT_SECS).";
    };

    restartLimit = mkOption {
      type = types.ints.between 0 100;
      default = 5;
      description = "Crash restarts in a row before a sandbox is marked failed (SANDBOX_RESTART_LIMIT).";
    };

    knownGoodRetain = mkOption {
      type = types.ints.between 1 1000;
      default = 5;
      description = "How many of the newest known-good releases keep their images (HYPERVISOR_KNOWN_GOOD_RETAIN).";
    };

    webauthn = {
      rpId = mkOption {
        type = types.strMatching "[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?";
        default = "localhost";
        example = "choir.example.com";
        description = "WebAuthn relying party id, a domain name (WEBAUTHN_RP_ID).";
      };
      rpOrigin = mkOption {
        type = types.strMatching "https?://[^/]+";
        # The origin a browser sends leaves out the scheme's default port (the hypervisor refuses "http://localhost:80").
        default = if cfg.port == 80 then "http://localhost" else "http://localhost:${toString cfg.port}";
        defaultText = lib.literalExpression ''if config.services.choiros-hypervisor.port == 80 then "http://localhost" else "http://localhost:''${toString config.services.choiros-hypervisor.port}"'';
        example = "https://choir.example.com";
        description = "Origin the browser sees (WEBAUTHN_RP_ORIGIN); its host must be rpId or a subdomain of it.";
      };
      rpName = mkOption {
        type = types.str;
        default = "ChoirOS";
        description = "Relying party name shown by authenticators (WEBAUTHN_RP_NAME).";
      };
    };

    adminTokenFile = mkOption {
      type = types.nullOr types.path;
      default = null;
      example = "/run/secrets/choiros-admin-token";
      description = ''
        File holding the admin API's Bearer token, passed as the systemd credential `admin-token`
        (LoadCredential) so the service reads it from $CREDENTIALS_DIRECTORY. A path as a string,
        outside the Nix store. When null, the hypervisor generates a token once in its state directory.
      '';
    };

    # Publishing the key figures to CloudWatch (hypervisor/cloudwatch/README.md). Off: the unit has no
    # HYPERVISOR_CLOUDWATCH_* variable at all, and the hypervisor starts no publisher.
    cloudwatch = {
      enable = mkEnableOption "publishing the hypervisor's key figures to CloudWatch, batched every intervalSecs from a timer of its own (HYPERVISOR_CLOUDWATCH=on)";
      region = mkOption {
        type = types.nullOr (types.strMatching "[a-z]{2}(-[a-z]+)+-[0-9]");
        default = null;
        example = "eu-central-1";
        description = "AWS region of the CloudWatch the figures go to (HYPERVISOR_CLOUDWATCH_REGION); required when cloudwatch.enable is true.";
      };
      namespace = mkOption {
        type = types.strMatching "[A-Za-z0-9._/#:-]{1,255}";
        default = "ChoirOS/Hypervisor";
        description = "CloudWatch namespace of every figure (HYPERVISOR_CLOUDWATCH_NAMESPACE); not starting with AWS/.";
      };
      endpoint = mkOption {
        type = types.nullOr (types.strMatching "https?://[^/]+/?");
        default = null;
        example = "http://127.0.0.1:5000";
        description = "Another CloudWatch endpoint, an origin such as a moto stand-in's (HYPERVISOR_CLOUDWATCH_ENDPOINT); null: AWS's own for the region.";
      };
      host = mkOption {
        type = types.nullOr (types.strMatching "[!-~]{1,255}");
        default = null;
        example = "choiros-host";
        description = "The Host dimension of every figure (HYPERVISOR_CLOUDWATCH_HOST); null: the machine's host name (networking.hostName on NixOS).";
      };
      intervalSecs = mkOption {
        type = types.ints.between 1 3600;
        default = 60;
        description = "Seconds between two batches of figures (HYPERVISOR_CLOUDWATCH_INTERVAL_SECS).";
      };
      credentialsFile = mkOption {
        type = types.nullOr types.path;
        default = null;
        example = "/run/secrets/choiros-cloudwatch-credentials";
        description = ''
          An AWS shared credentials file (a [default] profile with aws_access_key_id and
          aws_secret_access_key), passed as the systemd credential `cloudwatch-credentials`
          (LoadCredential); the AWS SDK reads it from $CREDENTIALS_DIRECTORY by path, so no key is in
          the unit, its environment or the Nix store. A path as a string, outside the store. When
          null, the SDK's default chain applies (the EC2 instance role).
        '';
      };
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = !(isPodman && cfg.sandboxImage == null);
        message = "services.choiros-hypervisor.sandboxImage must be set when runtime = \"podman\" (for example \"localhost/choir-sandbox:0.1.0\"), or use runtime = \"process\".";
      }
      {
        # The type lets digits and dots through; WebAuthn (and the hypervisor) refuse an IP address as rpId.
        assertion = builtins.match "[0-9.]+" cfg.webauthn.rpId == null;
        message = "services.choiros-hypervisor.webauthn.rpId (${cfg.webauthn.rpId}) is an IP address, which WebAuthn does not accept as a relying party id: use the host's domain name (for example \"choir.example.com\").";
      }
      {
        assertion = hostMatchesRpId;
        message = "services.choiros-hypervisor.webauthn.rpOrigin (${cfg.webauthn.rpOrigin}) must name the host ${cfg.webauthn.rpId} (webauthn.rpId) or a subdomain of it, or passkeys cannot be used.";
      }
      {
        assertion = isCanonicalOrigin cfg.webauthn.rpOrigin;
        message = "services.choiros-hypervisor.webauthn.rpOrigin (${cfg.webauthn.rpOrigin}) is not an origin as a browser sends it, which the hypervisor refuses at start: write the host in lower case and the port (up to 65535, no leading zero) only when it is not the scheme's default, for example \"https://choir.example.com\" or \"http://choir.example.com:9090\".";
      }
      {
        # Only when publishing: while off the endpoint reaches no unit (the module warns about it instead).
        assertion = !cw.enable || cw.endpoint == null || isCanonicalOrigin cw.endpoint;
        message = "services.choiros-hypervisor.cloudwatch.endpoint (${toString cw.endpoint}) is not an origin as the hypervisor reads it: write the host in lower case and the port (up to 65535, no leading zero) only when it is not the scheme's default, for example \"http://127.0.0.1:5000\".";
      }
      {
        assertion = !(cfg.openFirewall && isLoopback);
        message = "services.choiros-hypervisor.openFirewall = true opens port ${toString cfg.port}, but host = \"${cfg.host}\" listens on loopback only: set host to a public address or leave openFirewall false.";
      }
      {
        assertion = !(inStore cfg.adminTokenFile);
        message = "services.choiros-hypervisor.adminTokenFile (${toString cfg.adminTokenFile}) is in the Nix store, which every user can read: give the path of a root-only file as a string, outside the store.";
      }
      {
        assertion = lib.hasPrefix "${stateDir}/" (toString cfg.databasePath) && lib.hasPrefix "${stateDir}/" (toString cfg.dataRoot);
        message = "services.choiros-hypervisor.databasePath and dataRoot must be under ${stateDir}/, the service's StateDirectory (the unit may write nowhere else).";
      }
      {
        assertion = !(cw.enable && cw.region == null);
        message = "services.choiros-hypervisor.cloudwatch.enable = true needs cloudwatch.region, the AWS region the figures go to (for example \"eu-central-1\"): CloudWatch is regional.";
      }
      {
        assertion = !(lib.hasPrefix "AWS/" cw.namespace);
        message = "services.choiros-hypervisor.cloudwatch.namespace (${cw.namespace}) starts with AWS/, which CloudWatch keeps for AWS's own services: use a namespace of your own such as \"ChoirOS/Hypervisor\".";
      }
      {
        assertion = !(inStore cw.credentialsFile);
        message = "services.choiros-hypervisor.cloudwatch.credentialsFile (${toString cw.credentialsFile}) is in the Nix store, which every user can read: give the path of a root-only file as a string, outside the store.";
      }
    ];

    # Settings that do nothing while publishing is off: most likely enable was forgotten.
    warnings = optional (!cw.enable && (cw.region != null || cw.endpoint != null || cw.credentialsFile != null))
      "services.choiros-hypervisor.cloudwatch has region, endpoint or credentialsFile set but cloudwatch.enable = false: nothing is published. Set cloudwatch.enable = true to publish, or remove them.";

    users.users.choiros-hypervisor = {
      isSystemUser = true;
      group = "choiros-hypervisor";
      home = stateDir;
      description = "ChoirOS hypervisor";
      extraGroups = optional isPodman "podman";
    };
    users.groups.choiros-hypervisor = { };
    users.groups.podman = mkIf isPodman { };

    networking.firewall.allowedTCPPorts = optional cfg.openFirewall cfg.port;

    # Podman's own socket-activated API service holds the container privileges; the hypervisor talks
    # to it as a member of the socket's group (CONTAINER_HOST makes its podman client remote).
    virtualisation.podman.enable = mkIf isPodman true;
    systemd.sockets.podman = mkIf isPodman { socketConfig = { SocketMode = "0660"; SocketGroup = "podman"; }; };

    systemd.services.choiros-hypervisor = {
      description = "ChoirOS hypervisor";
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ] ++ optional isPodman "podman.socket";
      requires = optional isPodman "podman.socket";
      # systemd 252 reports a missing LoadCredential source only as "Protocol error": assert each
      # file first, so status and journal name it (and a missing secret is not retried in a loop).
      unitConfig = optionalAttrs (credentialSources != [ ]) { AssertPathExists = map toString credentialSources; };

      environment = {
        HYPERVISOR_HOST = cfg.host;
        HYPERVISOR_PORT = toString cfg.port;
        HYPERVISOR_DATABASE_URL = "sqlite:${toString cfg.databasePath}";
        SANDBOX_RUNTIME = cfg.runtime;
        SANDBOX_DATA_ROOT = toString cfg.dataRoot;
        SANDBOX_IDLE_TIMEOUT_SECS = toString cfg.idleTimeout;
        SANDBOX_READY_TIMEOUT_SECS = toString cfg.readyTimeout;
        SANDBOX_STOP_TIMEOUT_SECS = toString cfg.stopTimeout;
        SANDBOX_RESTART_LIMIT = toString cfg.restartLimit;
        HYPERVISOR_KNOWN_GOOD_RETAIN = toString cfg.knownGoodRetain;
        WEBAUTHN_RP_ID = cfg.webauthn.rpId;
        WEBAUTHN_RP_ORIGIN = cfg.webauthn.rpOrigin;
        WEBAUTHN_RP_NAME = cfg.webauthn.rpName;
      } // optionalAttrs (cfg.sandboxImage != null) {
        SANDBOX_CONTAINER_IMAGE = cfg.sandboxImage;
      } // optionalAttrs isPodman {
        SANDBOX_PODMAN_BINARY = "${config.virtualisation.podman.package}/bin/podman";
        CONTAINER_HOST = "unix:///run/podman/podman.sock";
      } // optionalAttrs cw.enable ({
        HYPERVISOR_CLOUDWATCH = "on";
        HYPERVISOR_CLOUDWATCH_REGION = toString cw.region;
        HYPERVISOR_CLOUDWATCH_NAMESPACE = cw.namespace;
        HYPERVISOR_CLOUDWATCH_INTERVAL_SECS = toString cw.intervalSecs;
      } // optionalAttrs (cw.endpoint != null) {
        HYPERVISOR_CLOUDWATCH_ENDPOINT = cw.endpoint;
      } // optionalAttrs (cw.host != null) {
        HYPERVISOR_CLOUDWATCH_HOST = cw.host;
      } // optionalAttrs (cw.credentialsFile != null) {
        # A path, not the keys: %d is the unit's credentials directory, where LoadCredential put the file.
        AWS_SHARED_CREDENTIALS_FILE = "%d/${cwCredential}";
      });

      serviceConfig = {
        # exec: a start succeeds only once the hypervisor itself runs (a missing credential fails the start).
        Type = "exec";
        ExecStart = "${cfg.package}/bin/choiros-hypervisor";
        User = "choiros-hypervisor";
        Group = "choiros-hypervisor";
        StateDirectory = "choiros-hypervisor";
        StateDirectoryMode = "0700";
        WorkingDirectory = stateDir;
        Restart = "on-failure";
        RestartSec = "1s";
        # On SIGTERM the hypervisor stops accepting and exits 0, leaving its sandboxes as recorded for the
        # next start to adopt (hypervisor/cli/serve.ts); systemd then stops what is left in the unit's cgroup.
        KillSignal = "SIGTERM";
        TimeoutStopSec = "30s";
        LoadCredential = optional (cfg.adminTokenFile != null) "admin-token:${toString cfg.adminTokenFile}"
          ++ optional (cw.enable && cw.credentialsFile != null) "${cwCredential}:${toString cw.credentialsFile}";

        # Hardening: systemd-analyze security scores this unit <= 3.0 (checked by a test).
        UMask = "0077";
        NoNewPrivileges = true;
        CapabilityBoundingSet = "";
        AmbientCapabilities = "";
        ProtectSystem = "strict";
        ProtectHome = true;
        PrivateTmp = true;
        PrivateDevices = true;
        DevicePolicy = "closed";
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectKernelLogs = true;
        ProtectControlGroups = true;
        ProtectClock = true;
        ProtectHostname = true;
        ProtectProc = "invisible";
        ProcSubset = "pid";
        RestrictNamespaces = true;
        RestrictRealtime = true;
        RestrictSUIDSGID = true;
        LockPersonality = true;
        RemoveIPC = true;
        KeyringMode = "private";
        RestrictAddressFamilies = [ "AF_INET" "AF_INET6" "AF_UNIX" ];
        SystemCallArchitectures = "native";
        SystemCallFilter = [ "@system-service" "~@privileged @resources" ];
        SystemCallErrorNumber = "EPERM";
      };
    };
  };
}
