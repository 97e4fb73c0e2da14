// The template language of the messages people receive: `{{name}}` puts a value in, `{{#name}}…{{/name}}` keeps
// its text only when the value is there (the email's link). Nothing else, so an operator's template cannot run code,
// and each template is checked once, at start, against the placeholders its message knows.

export type Placeholder = "app_name" | "code" | "lifetime" | "link";

type Part = { text: string } | { value: Placeholder } | { section: Placeholder; parts: readonly Part[] };

export interface Template {
  readonly parts: readonly Part[];
}

export type TemplateValues = Partial<Record<Placeholder, string>>;

/** Why a template was refused, in words an operator can act on. */
export class TemplateProblem extends Error {
  override name = "TemplateProblem";
}

const tag = /\{\{\s*([#/]?)\s*([^{}]*?)\s*\}\}/g;

export function parseTemplate(source: string, known: readonly Placeholder[]): Template {
  const root: Part[] = [];
  const open: { name: Placeholder; parts: Part[] }[] = [];
  const current = () => open.at(-1)?.parts ?? root;
  const addText = (text: string) => {
    // A lone "}}" is left alone: CSS in an HTML part may end two blocks at once.
    if (text.includes("{{")) throw new TemplateProblem('a "{{" that opens no placeholder');
    if (text !== "") current().push({ text });
  };
  let end = 0;
  for (const match of source.matchAll(tag)) {
    addText(source.slice(end, match.index));
    end = match.index + match[0].length;
    const [, kind, name = ""] = match;
    if (!(known as readonly string[]).includes(name)) {
      const knows = known.map((placeholder) => `{{${placeholder}}}`).join(", ");
      throw new TemplateProblem(`unknown placeholder {{${kind}${name}}}; this message knows ${knows}`);
    }
    const placeholder = name as Placeholder;
    if (kind === "#") {
      const section = { name: placeholder, parts: [] as Part[] };
      current().push({ section: placeholder, parts: section.parts });
      open.push(section);
    } else if (kind === "/") {
      if (open.at(-1)?.name !== placeholder) throw new TemplateProblem(`{{/${name}}} closes no {{#${name}}}`);
      open.pop();
    } else {
      current().push({ value: placeholder });
    }
  }
  addText(source.slice(end));
  const unclosed = open.at(-1);
  if (unclosed) throw new TemplateProblem(`{{#${unclosed.name}}} is never closed with {{/${unclosed.name}}}`);
  if (root.length === 0) throw new TemplateProblem("is empty");
  return { parts: root };
}

/** Whether the template always shows the value, not only inside a section that may be left out. */
export function alwaysShows(template: Template, placeholder: Placeholder): boolean {
  return template.parts.some((part) => "value" in part && part.value === placeholder);
}

/** Renders the template; `escape` is applied to every value put in (HTML escaping for an HTML part). */
export function renderTemplate(
  template: Template,
  values: TemplateValues,
  escape: (value: string) => string = (value) => value,
): string {
  const render = (parts: readonly Part[]): string =>
    parts
      .map((part) => {
        if ("text" in part) return part.text;
        const value = values["value" in part ? part.value : part.section];
        if ("value" in part) return value === undefined ? "" : escape(value);
        return value === undefined || value === "" ? "" : render(part.parts);
      })
      .join("");
  return render(template.parts);
}

const htmlEntities: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => htmlEntities[character] as string);
}
