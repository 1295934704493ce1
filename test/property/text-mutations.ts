/**
 * Breaks a config's text on purpose: insert or delete characters, duplicate a line (a
 * duplicate key), indent with a tab, swap or cut lines, or tie two lines with an anchor and an
 * alias. Positions are taken modulo the text's length or line count, so any number is valid.
 */

export type TextMutation =
  | { readonly kind: "insert"; readonly at: number; readonly text: string }
  | { readonly kind: "delete"; readonly at: number; readonly length: number }
  | { readonly kind: "duplicateLine"; readonly line: number }
  | { readonly kind: "tabIndent"; readonly line: number }
  | { readonly kind: "swapLines"; readonly line: number; readonly other: number }
  | { readonly kind: "alias"; readonly line: number; readonly other: number; readonly name: string }
  | { readonly kind: "truncate"; readonly at: number };

export function applyTextMutation(text: string, mutation: TextMutation): string {
  const at = "at" in mutation ? mutation.at % (text.length + 1) : 0;
  switch (mutation.kind) {
    case "insert":
      return text.slice(0, at) + mutation.text + text.slice(at);
    case "delete":
      return text.slice(0, at) + text.slice(at + mutation.length);
    case "truncate":
      return text.slice(0, at);
    default:
      return mutateLines(text.split("\n"), mutation).join("\n");
  }
}

function mutateLines(lines: string[], mutation: TextMutation): string[] {
  const index = "line" in mutation ? mutation.line % lines.length : 0;
  const line = lines[index] ?? "";
  switch (mutation.kind) {
    case "duplicateLine":
      lines.splice(index, 0, line);
      return lines;
    case "tabIndent":
      lines[index] = line.replace(/^ +/, "\t");
      return lines;
    case "swapLines": {
      const other = mutation.other % lines.length;
      lines[index] = lines[other] ?? "";
      lines[other] = line;
      return lines;
    }
    case "alias": {
      // `key: value` -> `key: &name value` on one line, `key: *name` on the other.
      const other = mutation.other % lines.length;
      lines[index] = line.replace(/:(\s|$)/, `: &${mutation.name}$1`);
      lines[other] = (lines[other] ?? "").replace(/:\s.*$/, `: *${mutation.name}`);
      return lines;
    }
    default:
      return lines;
  }
}
