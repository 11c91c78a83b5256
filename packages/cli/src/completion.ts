/**
 * `onnxkit completion bash|zsh|fish`: a completion script generated from the program's own
 * command and option definitions, so it never falls out of date. Subcommand names complete in
 * first position; after a subcommand, `-…` completes its options and anything else a file name.
 */
import type { CommandUnknownOpts as Command } from './commander.js';

interface Spec {
  name: string;
  description: string;
  flags: { long?: string; short?: string; description: string }[];
}

function specs(program: Command): Spec[] {
  const global = program.options.map((o) => ({ ...(o.long ? { long: o.long } : {}), ...(o.short ? { short: o.short } : {}), description: o.description }));
  return program.commands.map((c) => ({
    name: c.name(),
    description: c.description(),
    flags: [...c.options.map((o) => ({ ...(o.long ? { long: o.long } : {}), ...(o.short ? { short: o.short } : {}), description: o.description })), ...global, { long: '--help', short: '-h', description: 'show help' }],
  }));
}

const shellWords = (words: string[]): string => words.join(' ');
const fishQuote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function bash(cmds: Spec[]): string {
  const cases = cmds.map((c) => `    ${c.name}) opts="${shellWords(c.flags.flatMap((f) => [f.long, f.short].filter((x): x is string => x !== undefined)))}" ;;`).join('\n');
  return `# onnxkit bash completion (onnxkit completion bash)
_onnxkit() {
  local cur cmd opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${shellWords(cmds.map((c) => c.name))} --help --version" -- "$cur") )
    return
  fi
  cmd="\${COMP_WORDS[1]}"
  case "$cmd" in
${cases}
    *) opts="" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  else
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
}
complete -o filenames -o bashdefault -F _onnxkit onnxkit
`;
}

function zsh(cmds: Spec[]): string {
  // zsh runs the bash function through bashcompinit: one script, the same behaviour.
  return `#compdef onnxkit
# onnxkit zsh completion (onnxkit completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bash(cmds).split('\n').slice(1).join('\n')}`;
}

function fish(cmds: Spec[]): string {
  const lines = ['# onnxkit fish completion (onnxkit completion fish)', 'complete -c onnxkit -f'];
  for (const c of cmds) lines.push(`complete -c onnxkit -n __fish_use_subcommand -a ${c.name} -d ${fishQuote(c.description)}`);
  for (const c of cmds) {
    for (const f of c.flags) {
      const parts = [`complete -c onnxkit -n '__fish_seen_subcommand_from ${c.name}'`];
      if (f.long) parts.push(`-l ${f.long.replace(/^--/, '')}`);
      if (f.short) parts.push(`-s ${f.short.replace(/^-/, '')}`);
      parts.push(`-d ${fishQuote(f.description)}`);
      lines.push(parts.join(' '));
    }
    lines.push(`complete -c onnxkit -n '__fish_seen_subcommand_from ${c.name}' -F`);
  }
  return lines.join('\n') + '\n';
}

export function completionScript(program: Command, shell: 'bash' | 'zsh' | 'fish'): string {
  const cmds = specs(program);
  return shell === 'bash' ? bash(cmds) : shell === 'zsh' ? zsh(cmds) : fish(cmds);
}
