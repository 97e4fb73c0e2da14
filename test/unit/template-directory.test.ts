// The templates directory as the server reads it at start, on real files, and the settings that go into every
// message: each problem one error naming the file or setting.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { loadMessageTemplates } from "../../src/delivery/templates/template-directory.js";
import { composeCodeMessage } from "../../src/domain/outgoing-message.js";
import { StartupError } from "../../src/startup-error.js";

const settings = { appName: "Acme", defaultLanguage: "en" };
const codeInput = { channel: "phone" as const, destination: "+41791234567", code: "123456", lifetimeMs: 600_000, userId: "u1", orgId: "o1" };

/** A templates directory holding `files` (paths relative to it). */
function directoryWith(files: Record<string, string | Buffer>): string {
  const directory = mkdtempSync(join(tmpdir(), "verifyd-templates-"));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(directory, path, ".."), { recursive: true });
    writeFileSync(join(directory, path), content);
  }
  return directory;
}

function refusal(templatesDir: string): string {
  try {
    loadMessageTemplates({ ...settings, templatesDir });
  } catch (error) {
    expect(error).toBeInstanceOf(StartupError);
    return (error as Error).message;
  }
  throw new Error("the directory was accepted");
}

describe("the templates directory", () => {
  it("replaces and adds templates, skipping hidden entries and following symbolic links", () => {
    const directory = directoryWith({
      "en/sms-code.txt": "{{app_name}} code: {{code}}\n",
      ".git/config": "not a template",
      "de/.sms-code.txt.swp": "an editor's",
    });
    // A mounted ConfigMap is made of links.
    symlinkSync(join(directoryWith({ "sms-code.txt": "Codice {{app_name}}: {{code}}" })), join(directory, "it"));

    const templates = loadMessageTemplates({ ...settings, templatesDir: directory });
    expect(composeCodeMessage(templates, codeInput).text).toBe("Acme code: 123456");
    expect(composeCodeMessage(templates, { ...codeInput, language: "de" }).text).toMatch(/^Ihr Bestätigungscode/);
    expect(composeCodeMessage(templates, { ...codeInput, language: "it-CH" }).text).toBe("Codice Acme: 123456");
  });

  it("refuses a directory that is missing, naming the setting and the directory", () => {
    const missing = join(tmpdir(), "verifyd-no-such-templates");
    expect(refusal(missing)).toBe(`--templates-dir ${missing}: cannot be read as a directory (ENOENT)`);
  });

  it("refuses a file where a language directory belongs, and a file that is not UTF-8", () => {
    const directory = directoryWith({ "README.md": "# templates", "de/sms-code.txt": Buffer.from([0x7b, 0x7b, 0xff, 0x7d]) });
    expect(refusal(directory)).toBe(
      `--templates-dir ${directory}: README.md: is not a directory named after a language (en, de, de-CH, …); de/sms-code.txt: is not UTF-8 text`,
    );
  });

  it("takes line breaks in an SMS (also a Windows editor's), tabs in an email, and a template of 64 KiB", () => {
    const html = `<p>\t{{code}}</p>\n`;
    const directory = directoryWith({
      "en/sms-code.txt": "{{app_name}} code:\r\n{{code}}\r\n",
      "en/email-code.html": `${html}${" ".repeat(64 * 1024 - Buffer.byteLength(html))}`,
    });
    const templates = loadMessageTemplates({ ...settings, templatesDir: directory });
    expect(composeCodeMessage(templates, codeInput).text).toBe("Acme code:\r\n123456");
  });

  it("refuses a directory where a template belongs, and a template beyond 64 KiB", () => {
    const directory = directoryWith({ "en/email-code.html": `<p>{{code}}</p>${" ".repeat(64 * 1024)}` });
    mkdirSync(join(directory, "en", "sms-code.txt"));
    expect(refusal(directory)).toBe(
      `--templates-dir ${directory}: en/email-code.html: is larger than 64 KiB (65551 bytes), the most a template may hold; ` +
        "en/sms-code.txt: is a directory, not a regular file",
    );
  });

  it("refuses a template it cannot use, naming the file", () => {
    const directory = directoryWith({ "de/sms-code.txt": "Ihr Code: {{Code}}" });
    expect(refusal(directory)).toBe(
      `--templates-dir ${directory}: de/sms-code.txt: unknown placeholder {{Code}}; this message knows {{app_name}}, {{code}}, {{lifetime}}`,
    );
  });

  it("names every problem at once: a stray file at the top does not hide the templates' own, nor an unreadable one", () => {
    const directory = directoryWith({
      "README.md": "# templates",
      "de/sms-code.txt": "Ihr Code: {{Code}}",
      "fr/email-code.subject.txt": "Votre code",
      "fr/email-code.txt": Buffer.from([0xff]),
      "fr/email-code.html": "<p>{{code}}</p>",
    });
    expect(refusal(directory)).toBe(
      `--templates-dir ${directory}: README.md: is not a directory named after a language (en, de, de-CH, …); ` +
        "fr/email-code.txt: is not UTF-8 text; " +
        "de/sms-code.txt: unknown placeholder {{Code}}; this message knows {{app_name}}, {{code}}, {{lifetime}}",
    );
  });

  it("without a directory, refuses a default language verifyd has no templates for", () => {
    expect(() => loadMessageTemplates({ ...settings, defaultLanguage: "fr" })).toThrow(
      new StartupError("--default-language fr: no templates in this language (there are: en, de)"),
    );
  });
});

describe("message settings", () => {
  const refused = (env: NodeJS.ProcessEnv) => {
    try {
      loadConfig([], env);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error("the configuration was accepted");
  };

  it("default to the app name verifyd, English and no WebOTP line", () => {
    expect(loadConfig([], {}).messages).toEqual({ appName: "verifyd", defaultLanguage: "en" });
  });

  it("take a host name for WebOTP in ASCII, lower-case", () => {
    const config = loadConfig(["--webotp-host", "Verify.Bücher.example", "--default-language", "DE-ch", "--app-name", " Acme "], {});
    expect(config.messages).toEqual({ appName: "Acme", defaultLanguage: "de-CH", webOtpHost: "verify.xn--bcher-kva.example" });
  });

  it.each(["https://verify.example.com", "verify.example.com:443", "verify.example.com/path", "192.0.2.1", "bad_host.example", "-a.example", "a..example"])(
    "refuse %s as the WebOTP host",
    (host) => {
      expect(refused({ VERIFYD_WEBOTP_HOST: host })).toContain(
        "--webotp-host / VERIFYD_WEBOTP_HOST: must be a host name such as verify.example.com, without scheme, port or path",
      );
    },
  );

  it("refuse an app name that is empty, too long or more than one line, and a default language that is no language tag", () => {
    for (const name of [" ", "A".repeat(41), "Acme\nBank"]) {
      expect(refused({ VERIFYD_APP_NAME: name })).toContain("--app-name / VERIFYD_APP_NAME: must be 1 to 40 characters");
    }
    expect(refused({ VERIFYD_DEFAULT_LANGUAGE: "en_US" })).toContain(
      "--default-language / VERIFYD_DEFAULT_LANGUAGE: must be a language tag such as en, de or de-CH",
    );
  });
});
