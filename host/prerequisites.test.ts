import { describe, expect, it } from 'vitest';
import { MissingHostToolError, requireHostTools } from './prerequisites.ts';

describe('the local host prerequisites', () => {
  it('name each missing tool and the apt line that installs it', async () => {
    const error = await requireHostTools('/nonexistent').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingHostToolError);
    expect((error as Error).message).toMatch(/debootstrap .*systemd-nspawn .*missing on this machine: install with "apt-get install -y debootstrap systemd-container util-linux openssh-client"/);
  });

  it('pass on this machine, set up by scripts/setup.sh', async () => {
    await expect(requireHostTools()).resolves.toBeUndefined();
  });
});
