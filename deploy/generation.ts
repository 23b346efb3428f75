import { execa } from 'execa';
import type { Routing } from '../gate-runner/deploy-section.ts';
import { offlinePackageSet } from '../nix/offline/package-set.ts';
import type { CloudWatchUnit } from './cloudwatch-unit.ts';

/**
 * A host generation: one Nix store path whose `bin/switch-to-configuration switch` installs and
 * (re)starts the host's units, the shape of a NixOS system's toplevel. On NixOS the generation is
 * `nixosConfigurations.<host>.config.system.build.toplevel` (the Phase 3 module); nixpkgs cannot be
 * had here, so this builds the same shape offline for a Debian systemd host standing in: the
 * hypervisor package (h12's flake output), Caddy in front of it, and their units.
 */
export interface GenerationSpec {
  /** The hypervisor package's store path (bin/choiros-hypervisor). */
  hypervisor: string;
  routing: Routing;
  /** Distinguishes generations of the same inputs (and names the store path). */
  label: string;
  /** Extra hypervisor environment; a deliberately broken value makes a generation that fails health. */
  hypervisorEnv?: Readonly<Record<string, string>>;
  /** The Caddy binary to put in the store (Debian's caddy here; nixpkgs' caddy on NixOS). */
  caddyBinary?: string;
  /** CloudWatch publishing, as the NixOS module's cloudwatch option renders it (cloudwatch-unit.ts); none: off. */
  cloudwatch?: CloudWatchUnit;
}

export const stateDir = '/var/lib/choiros';
export const hypervisorUnit = 'choiros-hypervisor.service';
export const caddyUnit = 'choiros-caddy.service';

export function caddyfile(routing: Routing): string {
  const global = [
    'admin off',
    `http_port ${routing.httpPort}`,
    `https_port ${routing.httpsPort}`,
    'skip_install_trust',
    ...(routing.tls === 'internal' ? ['local_certs'] : [`email ${routing.acmeEmail ?? ''}`]),
  ];
  return [
    '{',
    ...global.map((l) => `\t${l}`),
    '}',
    `${routing.hostName} {`,
    ...(routing.bind ? [`\tbind ${routing.bind}`] : []),
    `\treverse_proxy 127.0.0.1:${routing.hypervisorPort}`,
    '}',
    // The redirect server Caddy adds for HTTP listens where the site does.
    ...(routing.bind ? [`http://${routing.hostName} {`, `\tbind ${routing.bind}`, `\tredir https://{host}${routing.httpsPort === 443 ? '' : `:${routing.httpsPort}`}{uri} 308`, '}'] : []),
    '',
  ].join('\n');
}

/** The hypervisor unit's environment as the generation renders it (read by the Phase 4 lines for routings the stand-in cannot serve, such as port 443). */
export function hypervisorEnvironment(spec: Pick<GenerationSpec, 'routing' | 'cloudwatch' | 'hypervisorEnv'>): Record<string, string> {
  const { routing } = spec;
  const origin = `https://${routing.hostName}${routing.httpsPort === 443 ? '' : `:${routing.httpsPort}`}`;
  return {
    // Loopback only: Caddy is the way in.
    HYPERVISOR_HOST: '127.0.0.1',
    HYPERVISOR_PORT: String(routing.hypervisorPort),
    HYPERVISOR_DATABASE_URL: `sqlite:${stateDir}/hypervisor.db`,
    HYPERVISOR_ADMIN_TOKEN_FILE: `${stateDir}/admin-token`,
    SANDBOX_RUNTIME: 'process',
    SANDBOX_DATA_ROOT: `${stateDir}/sandboxes`,
    WEBAUTHN_RP_ID: routing.hostName,
    WEBAUTHN_RP_ORIGIN: origin,
    ...spec.cloudwatch?.environment,
    ...spec.hypervisorEnv,
  };
}

function hypervisorUnitText(spec: GenerationSpec): string {
  const env = hypervisorEnvironment(spec);
  return [
    '[Unit]',
    `Description=ChoirOS hypervisor (generation ${spec.label})`,
    'After=network.target',
    ...(spec.cloudwatch?.assertPathExists ?? []).map((file) => `AssertPathExists=${file}`),
    '[Service]',
    `ExecStart=${spec.hypervisor}/bin/choiros-hypervisor`,
    ...Object.entries(env).map(([k, v]) => `Environment="${k}=${v}"`),
    ...(spec.cloudwatch?.loadCredential ?? []).map((credential) => `LoadCredential=${credential}`),
    'Restart=on-failure',
    'RestartSec=1',
    `WorkingDirectory=${stateDir}`,
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

function caddyUnitText(caddy: string): string {
  return [
    '[Unit]',
    'Description=Caddy in front of the ChoirOS hypervisor',
    'After=network.target',
    '[Service]',
    `ExecStart=${caddy} run --adapter caddyfile --config @out@/etc/caddy/Caddyfile`,
    `Environment="XDG_DATA_HOME=${stateDir}/caddy" "XDG_CONFIG_HOME=${stateDir}/caddy" "HOME=${stateDir}/caddy"`,
    'Restart=on-failure',
    'RestartSec=1',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** Installs the generation's units (as links into the store, like NixOS) and restarts them. */
const switchScript = `#!/bin/sh
set -eu
[ "\${1:-}" = switch ] || { echo "usage: switch-to-configuration switch" >&2; exit 2; }
gen=@out@
mkdir -p /etc/systemd/system/multi-user.target.wants ${stateDir}
for unit in ${hypervisorUnit} ${caddyUnit}; do
  ln -sfn "$gen/etc/systemd/system/$unit" "/etc/systemd/system/$unit"
  ln -sfn "/etc/systemd/system/$unit" "/etc/systemd/system/multi-user.target.wants/$unit"
done
systemctl daemon-reload
systemctl restart ${hypervisorUnit} ${caddyUnit}
echo "switched to $gen"
`;

const nixString = (text: string): string => JSON.stringify(text).replace(/\$\{/g, '\\${');

/** Builds the generation offline with `nix build --impure --expr`; returns its store path and Nix's output. */
export async function buildGeneration(spec: GenerationSpec): Promise<{ storePath: string; log: string; command: string }> {
  const set = await offlinePackageSet();
  const caddy = spec.caddyBinary ?? '/usr/bin/caddy';
  const expr = `
let
  busybox = builtins.path { path = ${nixString(`${set.dir}/busybox`)}; name = "busybox-static"; };
  hypervisor = builtins.storePath ${nixString(spec.hypervisor)};
  caddy = builtins.path { path = ${nixString(caddy)}; name = "caddy"; };
in derivation {
  name = ${nixString(`choiros-host-generation-${spec.label}`)};
  system = "x86_64-linux";
  builder = "\${busybox}/bin/sh";
  PATH = "\${busybox}/bin";
  inherit hypervisor;
  caddyBin = caddy;
  hypervisorUnit = ${nixString(hypervisorUnitText(spec))};
  caddyUnit = ${nixString(caddyUnitText('@caddy@'))};
  caddyfile = ${nixString(caddyfile(spec.routing))};
  switchScript = ${nixString(switchScript)};
  args = [ "-e" "-c" ''
    mkdir -p $out/bin $out/etc/systemd/system $out/etc/caddy
    printf '%s' "$hypervisorUnit" > $out/etc/systemd/system/${hypervisorUnit}
    printf '%s' "$caddyUnit" | busybox sed -e "s|@out@|$out|g" -e "s|@caddy@|$caddyBin|g" > $out/etc/systemd/system/${caddyUnit}
    printf '%s' "$caddyfile" > $out/etc/caddy/Caddyfile
    printf '%s' "$switchScript" | busybox sed -e "s|@out@|$out|g" > $out/bin/switch-to-configuration
    chmod 555 $out/bin/switch-to-configuration
    ln -s $hypervisor $out/hypervisor
  '' ];
}`;
  const args = ['--extra-experimental-features', 'nix-command', 'build', '--impure', '--json', '--no-link', '--option', 'substituters', '', '--expr', expr];
  const result = await execa('nix', args, { reject: false, all: true });
  if (result.exitCode !== 0) throw new Error(`building the host generation ${spec.label} failed (exit ${result.exitCode}):\n${result.all}`);
  const built = JSON.parse(result.stdout) as { outputs: { out: string } }[];
  const storePath = built[0]?.outputs.out;
  if (!storePath) throw new Error(`nix build answered without a store path: ${result.stdout}`);
  return { storePath, log: result.all ?? '', command: `nix build --impure --json --no-link --expr '<generation ${spec.label}>'` };
}
