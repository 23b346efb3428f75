/**
 * The rows of the first Markdown table in `markdown`, each keyed by its column's header, so a
 * reader finds a figure by what the header says it is, not by its position.
 */
export function readMarkdownTable(markdown: string): Record<string, string>[] {
  const cells = (line: string): string[] => line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((cell) => cell.trim());
  const lines = markdown.split('\n');
  const start = lines.findIndex((line, i) => line.trim().startsWith('|') && /^\s*\|?\s*:?-{3,}/.test(lines[i + 1] ?? ''));
  if (start < 0) return [];
  const headers = cells(lines[start] ?? '');
  const rows: Record<string, string>[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.trim().startsWith('|')) break;
    const values = cells(line);
    rows.push(Object.fromEntries(headers.map((header, i) => [header, values[i] ?? ''])));
  }
  return rows;
}
