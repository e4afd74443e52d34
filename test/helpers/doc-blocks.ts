// The fenced shell blocks of README.md and docs/*.md, with the not-runnable reason a doc gives for one (issue 26):
// `<!-- not-runnable: why -->` on the line directly before the fence.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface DocFile {
  /** Relative to the repository root: README.md, docs/api.md. */
  readonly name: string;
  readonly text: string;
}

export interface ShellBlock {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly text: string;
  /** The reason of a not-runnable marker; undefined when the block is to be run. */
  readonly notRunnable: string | undefined;
}

export function docFiles(): DocFile[] {
  const names = ['README.md', ...readdirSync(join(REPO_ROOT, 'docs')).filter((n) => n.endsWith('.md')).sort().map((n) => `docs/${n}`)];
  return names.map((name) => ({ name, text: readFileSync(join(REPO_ROOT, name), 'utf8') }));
}

const MARKER = /^<!--\s*not-runnable:(.*)-->\s*$/;
const SHELL_FENCE = /^\s*```(sh|bash)\s*$/;

/** Throws on a marker that is not directly followed by a shell fence, or on an unclosed fence. */
export function shellBlocks(doc: DocFile): ShellBlock[] {
  const lines = doc.text.split('\n');
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] ?? '';
    const marker = MARKER.exec(line);
    if (marker !== null && !SHELL_FENCE.test(lines[i + 1] ?? '')) {
      throw new Error(`${doc.name}:${i + 1}: a not-runnable marker must be directly followed by a sh/bash fence`);
    }
    if (/^\s*```/.test(line) && !SHELL_FENCE.test(line)) {
      // Another language (json, yaml, nginx, js) or a plain fence: skip to its end so its content is not read as Markdown.
      const end = lines.findIndex((l, j) => j > i && /^\s*```\s*$/.test(l));
      if (end < 0) throw new Error(`${doc.name}:${i + 1}: unclosed fence`);
      i = end;
      continue;
    }
    if (!SHELL_FENCE.test(line)) continue;
    const end = lines.findIndex((l, j) => j > i && /^\s*```\s*$/.test(l));
    if (end < 0) throw new Error(`${doc.name}:${i + 1}: unclosed fence`);
    const previous = MARKER.exec(lines[i - 1] ?? '');
    blocks.push({ file: doc.name, line: i + 1, text: lines.slice(i + 1, end).join('\n'), notRunnable: previous?.[1]?.trim() });
    i = end;
  }
  return blocks;
}
