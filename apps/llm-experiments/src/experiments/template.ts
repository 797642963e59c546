/** `{{ name }}`: letters, digits, `_`, `.` and `-`; whitespace inside the braces is ignored. */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

/** A variable a template needs was not given. */
export class MissingVariableError extends Error {
  constructor(readonly variables: readonly string[]) {
    super(`missing template variable${variables.length > 1 ? 's' : ''}: ${variables.join(', ')}`);
    this.name = 'MissingVariableError';
  }
}

/** The distinct variable names a template uses, in order of first appearance. */
export function templateVariables(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string))];
}

/**
 * Replaces every `{{ name }}` with `variables[name]` (numbers and booleans as JSON prints them).
 * Text is inserted as given, once: a value containing `{{x}}` is not expanded again. Extra
 * variables are ignored; missing ones throw {@link MissingVariableError} naming all of them.
 */
export function renderTemplate(
  template: string,
  variables: Readonly<Record<string, string | number | boolean>>,
): string {
  const missing = templateVariables(template).filter((name) => !Object.hasOwn(variables, name));
  if (missing.length) throw new MissingVariableError(missing);
  return template.replace(PLACEHOLDER, (_match, name: string) => String(variables[name]));
}
