import { lstat, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { listEvidenceFolder, notAFileKind, sha256File, type EvidenceFile } from './evidence-files.ts';
import { evidenceDirName } from './evidence-layout.ts';
import { verdictSchema } from './verdict.ts';

/**
 * `npm run gate -- verify <run folder | verdict.json>`: checks a gate run's bundle as someone attached
 * it: every evidence file the verdict lists is present with its digest and size, and no file under
 * evidence/ is missing from the verdict. Evidence is regular files held in the bundle itself: a
 * symbolic link (whose target could change after the verdict vouched for it), a file reached through
 * a linked folder, a socket or a FIFO under evidence/ is a problem, listed or not, and is never read.
 * The gate runs the same check on its own verdict right after writing it, so a verdict never vouches
 * for evidence it does not match.
 */
export type BundleProblemKind = 'missing' | 'changed' | 'unlisted' | 'not-a-file' | 'line-not-in-run-list';

export interface BundleProblem {
  kind: BundleProblemKind;
  path: string;
  detail: string;
}

export interface BundleCheck {
  verdictFile: string;
  runDir: string;
  /** Evidence files the verdict lists. */
  listed: number;
  problems: BundleProblem[];
}

export class BundleInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleInputError';
  }
}

async function locateVerdict(input: string): Promise<string> {
  const resolved = path.resolve(input);
  let info;
  try {
    info = await stat(resolved);
  } catch {
    throw new BundleInputError(`${input} does not exist: give a gate run folder (reports/gates/<phase>/<run id>) or its verdict.json`);
  }
  const verdictFile = info.isDirectory() ? path.join(resolved, 'verdict.json') : resolved;
  // Read nothing that is not a regular file: a FIFO named verdict.json would hold the check forever.
  const verdictInfo = verdictFile === resolved ? info : await stat(verdictFile).catch(() => undefined);
  if (verdictInfo && !verdictInfo.isFile()) throw new BundleInputError(`${verdictFile} is not a regular file: a gate run folder holds verdict.json, a file, next to evidence/`);
  return verdictFile;
}

function isEvidenceFile(value: unknown): value is EvidenceFile {
  const file = value as Partial<EvidenceFile> | null;
  return typeof file === 'object' && file !== null && typeof file.path === 'string' && typeof file.sha256 === 'string' && typeof file.bytes === 'number';
}

/** The parts of a verdict the check needs, validated so a wrong file is named, not half-checked. */
async function readVerdictEvidence(verdictFile: string): Promise<{ evidence: EvidenceFile[]; lines: { line: string; evidence: EvidenceFile[] }[] }> {
  let text: string;
  try {
    text = await readFile(verdictFile, 'utf8');
  } catch {
    throw new BundleInputError(`${verdictFile} cannot be read: a gate run folder holds verdict.json next to evidence/`);
  }
  let verdict: { schema?: unknown; evidence?: unknown; lines?: unknown };
  try {
    verdict = JSON.parse(text) as typeof verdict;
  } catch {
    throw new BundleInputError(`${verdictFile} is not JSON: it is not a gate verdict`);
  }
  if (verdict.schema !== verdictSchema) throw new BundleInputError(`${verdictFile} has schema ${JSON.stringify(verdict.schema)}, not "${verdictSchema}": it is not a verdict this gate runner can check`);
  if (!Array.isArray(verdict.evidence) || !verdict.evidence.every(isEvidenceFile)) throw new BundleInputError(`${verdictFile}: "evidence" must be a list of {path, sha256, bytes}`);
  const lines = Array.isArray(verdict.lines) ? (verdict.lines as { line?: unknown; evidence?: unknown }[]) : [];
  return {
    evidence: verdict.evidence,
    lines: lines.map((l) => ({ line: String(l.line), evidence: Array.isArray(l.evidence) ? l.evidence.filter(isEvidenceFile) : [] })),
  };
}

/** A listed path must stay inside the run's evidence folder: a verdict cannot vouch for files elsewhere. */
function insideEvidence(runDir: string, listedPath: string): string | undefined {
  const full = path.resolve(runDir, listedPath);
  const evidenceDir = path.join(runDir, evidenceDirName);
  return full.startsWith(`${evidenceDir}${path.sep}`) ? full : undefined;
}

async function checkListed(runDir: string, realRunDir: string, file: EvidenceFile): Promise<BundleProblem | undefined> {
  const full = insideEvidence(runDir, file.path);
  if (!full) return { kind: 'unlisted', path: file.path, detail: `the verdict lists a path outside ${evidenceDirName}/` };
  let info;
  try {
    info = await lstat(full);
  } catch {
    return { kind: 'missing', path: file.path, detail: 'listed in the verdict, not in the bundle' };
  }
  if (!info.isFile()) {
    const what = info.isDirectory() ? 'folder' : notAFileKind(info);
    return { kind: 'not-a-file', path: file.path, detail: `listed as a file, but the bundle holds a ${what} there` };
  }
  // A folder on the way may be a link out of the bundle even when the file itself is not one.
  if ((await realpath(full)) !== path.join(realRunDir, path.relative(runDir, full))) {
    return { kind: 'not-a-file', path: file.path, detail: 'reached through a symbolic link: the bundle does not hold it itself' };
  }
  const sha256 = await sha256File(full);
  if (sha256 !== file.sha256 || info.size !== file.bytes) {
    return { kind: 'changed', path: file.path, detail: `sha256 ${sha256} (${info.size} bytes), the verdict says ${file.sha256} (${file.bytes} bytes)` };
  }
  return undefined;
}

export async function verifyBundle(input: string): Promise<BundleCheck> {
  const verdictFile = await locateVerdict(input);
  const runDir = path.dirname(verdictFile);
  const { evidence, lines } = await readVerdictEvidence(verdictFile);
  const problems: BundleProblem[] = [];
  const realRunDir = await realpath(runDir);
  for (const file of evidence) {
    const problem = await checkListed(runDir, realRunDir, file);
    if (problem) problems.push(problem);
  }
  const listed = new Set(evidence.map((file) => file.path));
  // Listed files were hashed above; the rest of the folder is only listed, never read.
  const found = await listEvidenceFolder(path.join(runDir, evidenceDirName), runDir);
  for (const file of found.files) {
    if (!listed.has(file)) problems.push({ kind: 'unlisted', path: file, detail: `in ${evidenceDirName}/ but not in the verdict` });
  }
  for (const entry of found.notFiles) {
    if (!listed.has(entry.path)) problems.push({ kind: 'not-a-file', path: entry.path, detail: `a ${entry.kind} in ${evidenceDirName}/, not in the verdict: a bundle holds regular files only` });
  }
  const runList = new Map(evidence.map((file) => [file.path, file.sha256]));
  for (const line of lines) {
    for (const file of line.evidence) {
      if (runList.get(file.path) !== file.sha256) problems.push({ kind: 'line-not-in-run-list', path: file.path, detail: `line "${line.line}" cites it with a digest the run's evidence list does not have` });
    }
  }
  return { verdictFile, runDir, listed: evidence.length, problems };
}

export function renderBundleCheck(check: BundleCheck): string {
  if (!check.problems.length) return `verify: ${check.verdictFile}: intact (${check.listed} evidence files, every sha256 and size matches, nothing unlisted)`;
  return [
    `verify: ${check.verdictFile}: NOT intact, ${check.problems.length} problem(s) among ${check.listed} listed evidence files:`,
    ...check.problems.map((p) => `  ${p.kind.padEnd(20)} ${p.path}: ${p.detail}`),
    'The bundle is not the evidence this verdict was written for: do not trust its lines; rerun the gate or ask for the original bundle.',
  ].join('\n');
}

const usage = 'usage: npm run gate -- verify <run folder | verdict.json>';

/** The `verify` subcommand: 0 intact, 1 not intact, 2 bad input. */
export async function verifyCommand(args: readonly string[]): Promise<number> {
  if (args.length !== 1 || !args[0]) {
    console.error(`gate verify: give exactly one run folder or verdict.json. ${usage}`);
    return 2;
  }
  try {
    const check = await verifyBundle(args[0]);
    const report = renderBundleCheck(check);
    if (check.problems.length) console.error(report);
    else console.log(report);
    return check.problems.length ? 1 : 0;
  } catch (error) {
    if (!(error instanceof BundleInputError)) throw error;
    console.error(`gate verify: ${error.message}. ${usage}`);
    return 2;
  }
}
