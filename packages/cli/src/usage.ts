/**
 * Usage errors in one line. commander reports a bad command line in its own words, over two or
 * three lines ("error: unknown option '--input-shap'", "(Did you mean --input-shape?)", and the
 * "(run with --help for usage)" that showHelpAfterError adds), and a bad choice as "option
 * '--ort-opt <level>' argument 'x' is invalid. Allowed choices are …" where the CLI's own checks
 * say "--ort-opt 'x' is not one of …". The CLI's contract is ONE line and exit 2: program.ts
 * silences commander's output and main() prints `usageLine(error, command)` instead, which names
 * the flag (or argument, or command) and says what to do — a suggestion folded into the line.
 */
import type { CommandUnknownOpts as Command, CommanderError } from './commander.js';

/** `onnxkit analyze`, or `onnxkit` for the program itself. */
function commandPath(cmd: Command | undefined): string {
  const names: string[] = [];
  for (let c: Command | null | undefined = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ') || 'onnxkit';
}

/** The long flag of an option's flags ('-o, --output <file>' → '--output'), else the short one. */
function flagName(flags: string): string {
  const parts = flags.split(/[ ,|]+/).filter((p) => p.startsWith('-'));
  return parts.find((p) => p.startsWith('--')) ?? parts[0] ?? flags;
}

/** "(Did you mean --input-shape?)" / "(Did you mean one of a, b?)" → "did you mean --input-shape?". */
function suggestion(rest: string): string | undefined {
  const m = /\(Did you mean (.+)\?\)/.exec(rest);
  return m ? `did you mean ${m[1]}?` : undefined;
}

/**
 * The one line (without the "onnxkit: " prefix) for a commander usage error, `cmd` being the
 * command whose arguments were being parsed.
 */
export function usageLine(e: CommanderError, cmd: Command | undefined): string {
  const where = commandPath(cmd);
  const help = `\`${where} --help\` lists ${where === 'onnxkit' ? 'the commands and global options' : 'its options'}`;
  const text = e.message.replace(/^error: /, '');
  const [first = '', ...more] = text.split('\n');
  const rest = more.join(' ');
  let m: RegExpExecArray | null;
  switch (e.code) {
    case 'commander.unknownOption':
      if ((m = /^unknown option '(.*)'/.exec(first))) return `unknown option '${m[1]}' for ${where}: ${suggestion(rest) ?? help}`;
      break;
    case 'commander.unknownCommand':
      if ((m = /^unknown command '(.*)'/.exec(first))) return `unknown command '${m[1]}': ${suggestion(rest) ?? help}`;
      break;
    case 'commander.invalidArgument': {
      // option '<flags>' argument '<value>' is invalid. <reason>
      if ((m = /^option '(.+?)' argument '(.*)' is invalid\. (.*)$/s.exec(text))) return invalid(flagName(m[1]!), m[2]!, m[3]!);
      // command-argument value '<value>' is invalid for argument '<name>'. <reason>
      if ((m = /^command-argument value '(.*)' is invalid for argument '(.+?)'\. (.*)$/s.exec(text))) return invalid(`<${m[2]}>`, m[1]!, m[3]!);
      break;
    }
    case 'commander.optionMissingArgument':
      if ((m = /^option '(.+)' argument missing/.exec(first))) return `${flagName(m[1]!)} needs a value: ${m[1]!.replace(/^-\w, /, '')}`;
      break;
    case 'commander.missingMandatoryOptionValue':
      if ((m = /^required option '(.+)' not specified/.exec(first))) return `${where} needs ${m[1]!.replace(/^-\w, /, '')}: ${usage(cmd, where)}`;
      break;
    case 'commander.missingArgument':
      if ((m = /^missing required argument '(.+)'/.exec(first))) return `${where} needs its <${m[1]}> argument: ${usage(cmd, where)}`;
      break;
    case 'commander.excessArguments':
      if ((m = /Expected (\d+) arguments? but got (\d+)/.exec(first))) return `too many arguments for ${where} (${m[2]}, it takes ${m[1]}): ${usage(cmd, where)}`;
      break;
  }
  return [first, ...more].map((l) => l.replace(/^\((.*)\)$/, '$1')).join('; ');
}

/** "usage: onnxkit analyze [options] <model>". */
function usage(cmd: Command | undefined, where: string): string {
  return `usage: ${where}${cmd ? ` ${cmd.usage()}` : ''}`;
}

/**
 * A rejected value: commander's choice message in the CLI's own words ("--ort-opt 'x' is not one
 * of a, b"); an argParser's message (which names the flag itself, see options.ts) as it is.
 */
function invalid(flag: string, value: string, reason: string): string {
  const choices = /^Allowed choices are (.*)\.$/.exec(reason.trim());
  if (choices) return `${flag} '${value}' is not one of ${choices[1]}`;
  return reason.trim().startsWith(flag) ? reason.trim() : `${flag} '${value}': ${reason.trim()}`;
}
