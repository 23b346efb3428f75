import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DescriptionFields } from './description-fields.ts';
import { tempDir } from './sample-run.ts';
import { describeSecretRef, MissingSecretError, readSecretRef, resolveSecret } from './secret-ref.ts';

const fieldsIn = (dir: string, adminToken: unknown): DescriptionFields => new DescriptionFields(path.join(dir, 'prod.json'), { adminToken }, 'hypervisor');

describe('a secret reference in a target description', () => {
  it('reads a relative file from the description\'s folder and ~/ from HOME, trimmed', async () => {
    const dir = await tempDir('secret-ref');
    await writeFile(path.join(dir, 'admin-token'), '  t0ken\n', { mode: 0o600 });
    const ref = readSecretRef(fieldsIn(dir, { file: 'admin-token' }), 'adminToken');
    expect(ref.file).toBe(path.join(dir, 'admin-token'));
    expect(resolveSecret(ref)).toBe('t0ken');
    expect(describeSecretRef(ref)).toBe(`file:${path.join(dir, 'admin-token')}`);
    const home = process.env.HOME ?? '';
    expect(readSecretRef(fieldsIn('/elsewhere', { file: '~/.config/choiros/admin-token' }), 'adminToken').file).toBe(path.join(home, '.config/choiros/admin-token'));
    expect(readSecretRef(fieldsIn('/elsewhere', { file: '~admin-token' }), 'adminToken').file, 'only ~/ means HOME').toBe('/elsewhere/~admin-token');
  });

  it('says which field and file when the file is missing or empty, and what to do', async () => {
    const dir = await tempDir('secret-ref');
    const missing = readSecretRef(fieldsIn(dir, { file: 'absent' }), 'adminToken');
    expect(() => resolveSecret(missing)).toThrow(MissingSecretError);
    expect(() => resolveSecret(missing)).toThrow(`hypervisor.adminToken comes from the file ${path.join(dir, 'absent')}, which cannot be read (ENOENT): create it (mode 0600)`);
    await writeFile(path.join(dir, 'blank'), ' \n');
    expect(() => resolveSecret(readSecretRef(fieldsIn(dir, { file: 'blank' }), 'adminToken'))).toThrow(`hypervisor.adminToken comes from the file ${path.join(dir, 'blank')}, which is empty.`);
  });

  it('names exactly one source: both, neither, or a name that is no variable name is refused, naming the field', () => {
    expect(() => readSecretRef(fieldsIn('/d', { env: 'A', file: 'f' }), 'adminToken')).toThrow('hypervisor.adminToken must name exactly one of "env" or "file".');
    expect(() => readSecretRef(fieldsIn('/d', {}), 'adminToken')).toThrow('hypervisor.adminToken must name exactly one of "env" or "file".');
    expect(() => readSecretRef(fieldsIn('/d', { env: 'NOT-A-NAME' }), 'adminToken')).toThrow(/hypervisor\.adminToken\.env/);
    expect(describeSecretRef(readSecretRef(fieldsIn('/d', { env: 'PROD_ADMIN' }), 'adminToken'))).toBe('env:PROD_ADMIN');
  });

  it('falls back to the given variable only when the field is absent, and otherwise requires it', () => {
    const absent = new DescriptionFields('/d/prod.json', {}, 'hypervisor');
    expect(readSecretRef(absent, 'adminToken', 'HYPERVISOR_ADMIN_TOKEN')).toMatchObject({ env: 'HYPERVISOR_ADMIN_TOKEN', field: 'hypervisor.adminToken' });
    expect(() => readSecretRef(absent, 'adminToken')).toThrow('/d/prod.json: hypervisor.adminToken is missing');
    expect(readSecretRef(fieldsIn('/d', { env: 'PROD_ADMIN' }), 'adminToken', 'HYPERVISOR_ADMIN_TOKEN').env).toBe('PROD_ADMIN');
  });
});
