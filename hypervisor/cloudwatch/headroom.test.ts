import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it, onTestFinished } from 'vitest';
import { diskHeadroomPercent, memoryHeadroomPercent } from './headroom.ts';

// Checked against what df and free report, so a reserved-blocks or cache mix-up shows. Both move a
// little between the two readings on a busy machine: a point or two, far less than those mix-ups.
const tolerance = 3;

describe('MemoryHeadroom and DiskHeadroom (headroom.ts)', () => {
  it('gives disk headroom as the percent free to unprivileged writers, as df reports it, from the nearest existing folder', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'choiros-cw-headroom-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const { stdout } = await execa('df', ['--output=avail,size', '-B1', dir]);
    const [avail = NaN, size = NaN] = (stdout.trim().split('\n').at(-1) ?? '').trim().split(/\s+/).map(Number);
    const notYetCreated = path.join(dir, 'sandboxes', 'not', 'yet', 'created');
    expect(Math.abs((await diskHeadroomPercent(notYetCreated)) - (avail / size) * 100)).toBeLessThan(tolerance);
  });

  it('gives a file system without blocks (proc) no headroom rather than a figure that is not a number', async () => {
    expect(await diskHeadroomPercent('/proc')).toBe(0);
  });

  it('gives memory headroom as the percent available (reclaimable cache included), as free reports it', async () => {
    const { stdout } = await execa('free', ['-b']);
    const mem = (stdout.split('\n').find((line) => line.startsWith('Mem:')) ?? '').trim().split(/\s+/);
    const [total = NaN, available = NaN] = [Number(mem[1]), Number(mem[6])];
    expect(Math.abs((await memoryHeadroomPercent()) - (available / total) * 100)).toBeLessThan(tolerance);
  });
});
