import { describe, expect, it } from 'vitest';
import { MissingVariableError, renderTemplate, templateVariables } from './template.js';

describe(renderTemplate.name, () => {
  it('substitutes variables, with or without spaces inside the braces', () => {
    expect(
      renderTemplate('Summarise {{text}} in {{ words }} words.', { text: 'the report', words: 50 }),
    ).toBe('Summarise the report in 50 words.');
  });

  it('repeats a variable used twice and ignores extra ones', () => {
    expect(renderTemplate('{{a}}-{{a}}', { a: 'x', b: 'unused' })).toBe('x-x');
  });

  it('does not expand placeholders found inside values', () => {
    expect(renderTemplate('say {{a}}', { a: '{{b}}', b: 'no' })).toBe('say {{b}}');
  });

  it('names every missing variable', () => {
    expect(() => renderTemplate('{{a}} {{b}} {{c}}', { b: 1 })).toThrow(MissingVariableError);
    expect(() => renderTemplate('{{a}} {{b}} {{c}}', { b: 1 })).toThrow('missing template variables: a, c');
  });

  it('does not treat inherited properties as given', () => {
    expect(() => renderTemplate('{{toString}}', {})).toThrow(MissingVariableError);
  });
});

describe(templateVariables.name, () => {
  it('lists distinct names in order', () => {
    expect(templateVariables('{{b}} {{ a }} {{b}} {not} {{user.name}}')).toEqual(['b', 'a', 'user.name']);
  });
});
