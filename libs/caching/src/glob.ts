/** A Redis-style glob (`*`, `?`, `\` escapes) as a RegExp over whole keys, for the L1 side of a pattern. */
export function globToRegExp(glob: string): RegExp {
  let out = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '\\' && i + 1 < glob.length) out += escape(glob[++i] as string);
    else if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else out += escape(c);
  }
  return new RegExp(`${out}$`, 's');
}

const escape = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Escapes Redis glob metacharacters so a literal prefix can precede a user's pattern. */
export const escapeGlob = (literal: string): string => literal.replace(/[*?[\]\\]/g, '\\$&');
