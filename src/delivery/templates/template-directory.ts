// The message templates an operator puts in --templates-dir, read and checked once at start: a directory per
// language holding files named after the messages. Anything wrong is one start-up error naming the file.
import { type Stats, closeSync, constants, fstatSync, openSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  type MessageSettings,
  type MessageTemplates,
  type TemplateFileProblem,
  type TemplateSources,
  TemplateProblems,
  buildMessageTemplates,
  templateNotices,
} from "../../domain/messages/message-catalog.js";
import { TemplateProblem } from "../../domain/messages/message-template.js";
import { shippedTemplates } from "../../domain/messages/shipped-templates.js";
import { StartupError } from "../../startup-error.js";

/**
 * The shipped templates, with the directory's (if any) replacing and adding to them; `notice` is told what the
 * directory leaves to the default language or to the shipped templates.
 */
export function loadMessageTemplates(
  settings: MessageSettings & { templatesDir?: string },
  notice: (line: string) => void = () => undefined,
): MessageTemplates {
  const { templatesDir, ...messageSettings } = settings;
  const where = templatesDir === undefined ? "" : `--templates-dir ${templatesDir}: `;
  const read = templatesDir === undefined ? { sources: {}, problems: [] } : readTemplateDirectory(templatesDir);
  // What could be read is checked too, so that one start names every problem; a file that could not be read is not
  // named again as missing.
  const problems = [...read.problems];
  const unread = new Set(read.problems.map((problem) => problem.file));
  let templates: MessageTemplates | undefined;
  try {
    templates = buildMessageTemplates(shippedTemplates, read.sources, messageSettings);
  } catch (error) {
    if (!(error instanceof TemplateProblems)) throw error;
    problems.push(...error.problems.filter((problem) => problem.file === undefined || !unread.has(problem.file)));
  }
  if (templates === undefined || problems.length > 0) {
    throw new StartupError(`${where}${new TemplateProblems(problems).message}`);
  }
  for (const line of templateNotices(shippedTemplates, read.sources, messageSettings.defaultLanguage)) notice(`${where}${line}`);
  return templates;
}

/** Hidden entries are skipped: editors' and Kubernetes' (a mounted ConfigMap's `..data`) bookkeeping. */
const hidden = (name: string) => name.startsWith(".");

function readTemplateDirectory(directory: string): { sources: TemplateSources; problems: TemplateFileProblem[] } {
  const problems: TemplateFileProblem[] = [];
  const sources: Record<string, Record<string, string>> = {};
  for (const language of entries(directory, problems)) {
    // Symbolic links are followed, as a mounted ConfigMap is made of them.
    if (!isDirectory(join(directory, language))) {
      problems.push({ file: language, problem: "is not a directory named after a language (en, de, de-CH, …)" });
      continue;
    }
    const files: Record<string, string> = {};
    for (const name of entries(join(directory, language), problems, language)) {
      const file = `${language}/${name}`;
      try {
        files[name] = readTemplateFile(join(directory, file));
      } catch (error) {
        problems.push({ file, problem: error instanceof TemplateProblem ? error.message : `cannot be read (${errorCode(error)})` });
      }
    }
    sources[language] = files;
  }
  return { sources, problems };
}

/**
 * The most a template file may hold, which the HTML part of an email comes nearest: email clients cut longer messages
 * off (Gmail beyond 102 KB), and every message waits sealed in the outbox until delivered, so a template's size is
 * paid for every code sent.
 */
const maxTemplateBytes = 64 * 1024;

/** The file's text; a TemplateProblem says why it can be no template. */
function readTemplateFile(path: string): string {
  // Without O_NONBLOCK, opening a named pipe would wait for a writer, and the start with it; a file ignores it.
  const descriptor = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  let bytes: Buffer;
  try {
    const stats = fstatSync(descriptor);
    if (!stats.isFile()) throw new TemplateProblem(`is ${kindOf(stats)}, not a regular file`);
    if (stats.size > maxTemplateBytes) {
      throw new TemplateProblem(`is larger than ${maxTemplateBytes / 1024} KiB (${stats.size} bytes), the most a template may hold`);
    }
    bytes = readFileSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new TemplateProblem("is not UTF-8 text");
  }
}

/** What else a path opened for reading can be: a socket cannot be opened, and a symbolic link is followed. */
function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return "a directory";
  return stats.isFIFO() ? "a named pipe (FIFO)" : "a device";
}

function entries(path: string, problems: TemplateFileProblem[], file?: string): string[] {
  try {
    return readdirSync(path).filter((name) => !hidden(name)).sort();
  } catch (error) {
    problems.push({ ...(file === undefined ? {} : { file }), problem: `cannot be read as a directory (${errorCode(error)})` });
    return [];
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}
