/**
 * Escaping for the two contexts model strings reach in the report: HTML text/attributes, and
 * JSON inside a <script> element (where `</script>` or `<!--` in a node name would otherwise end
 * or corrupt the script).
 */
import { ReportError } from './errors.js';

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or attribute value (always quoted with `"` by the renderer). */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * JSON that can sit inside `<script type="application/json">`: `<`, `>` and `&` become \u
 * escapes (so neither `</script` nor `<!--` can appear), and so do U+2028/U+2029. `JSON.parse`
 * of the element's text gives back exactly `JSON.parse(JSON.stringify(value))`.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * JavaScript source made safe to inline in a <script> element. `<\/script` means the same as
 * `</script` in a string, a regular expression (also with the `u` flag) or a comment, the only
 * places it can occur in valid code. `<!--` could switch the HTML parser into its "escaped"
 * script state; rewriting it is not always meaning-preserving, so it is refused.
 */
export function inlineScript(source: string, what: string): string {
  if (source.includes('<!--')) {
    throw new ReportError(`${what} contains '<!--', which cannot be inlined in an HTML <script> element safely`, {
      code: 'REPORT_UNSAFE_SCRIPT',
      hint: 'use a build of the library without HTML comments inside strings',
    });
  }
  return source.replace(/<\/(script)/gi, '<\\/$1');
}
