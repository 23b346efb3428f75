import { installDeployKey } from './deploy-key.ts';

/** npm run deploy-key: GATE_SSH_KEY to the target's deploy.ssh.identityFile (deploy/deploy-key.ts), for CI runners. */
try {
  const { written, why } = await installDeployKey();
  console.log(JSON.stringify({ event: 'deploy_key', written: written ?? null, why }));
} catch (error) {
  console.error(`deploy-key: ${(error as Error).message}`);
  process.exitCode = 1;
}
