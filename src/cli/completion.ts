/**
 * `pem completion bash|zsh`: a shell completion script generated from pem's own command tree
 * (commander's commands, options, choices and value placeholders), so it can never drift from
 * the flags. The script is static: a TAB never starts Node.
 *
 * Why not a library: @bomb.sh/tab (the one maintained commander adapter) answers each TAB by
 * running `pem complete -- …`, which starts the whole CLI per key press, and it writes through
 * console.log and a process-wide registry, which a command given its streams cannot use.
 */
import { Argument, type Command, type Option } from 'commander';
import { addExamples, type CliContext } from './context.js';

export const SHELLS = ['bash', 'zsh'] as const;
type Shell = (typeof SHELLS)[number];

/** One command of the tree as the shells need it. `path` is its words after `pem` ('' for pem itself). */
interface CompletionNode {
  path: string;
  /** Sub-commands and, when an argument has choices, those choices: words to offer, with descriptions. */
  words: [string, string][];
  /** Options taking a value, by flag: what to offer after them. */
  values: Map<string, ValueCompletion>;
}

type ValueCompletion = { kind: 'choices'; choices: readonly string[] } | { kind: 'files' } | { kind: 'free' };

export function registerCompletionCommand(program: Command, context: CliContext): void {
  const command = program
    .command('completion')
    .description('print a shell completion script: bash or zsh')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS));
  addExamples(command, [
    ['source <(pem completion bash)', 'completion in this bash session (add the line to ~/.bashrc to keep it)'],
    ['source <(pem completion zsh)', 'completion in this zsh session, after compinit (add it to ~/.zshrc)'],
    ['pem completion bash > ~/.local/share/bash-completion/completions/pem', 'install it for bash-completion'],
  ]);
  command.action((shell: Shell) => {
    const nodes = completionNodes(program);
    context.stdout.write(shell === 'bash' ? bashScript(program.name(), nodes) : zshScript(program.name(), nodes));
  });
}

/** Every visible command of the tree, depth first. */
export function completionNodes(root: Command): CompletionNode[] {
  const nodes: CompletionNode[] = [];
  const visit = (command: Command, path: string) => {
    const help = command.createHelp();
    const subcommands = help.visibleCommands(command);
    const words: [string, string][] = subcommands.map((sub) => [sub.name(), sub.description()]);
    for (const argument of command.registeredArguments) {
      for (const choice of argument.argChoices ?? []) words.push([choice, argument.description]);
    }
    const values = new Map<string, ValueCompletion>();
    for (const option of help.visibleOptions(command)) {
      for (const flag of flagsOf(option)) words.push([flag, option.description]);
      if (!option.required && !option.optional) continue;
      for (const flag of flagsOf(option)) values.set(flag, valueCompletion(option));
    }
    nodes.push({ path, words, values });
    for (const sub of subcommands) visit(sub, path ? `${path} ${sub.name()}` : sub.name());
    // `help [command]` (commander's own) takes the name of a command beside it, and walks down as the
    // commands do (`pem help silence add`): each one's sub-commands, no flags.
    const helpNode = nodes.find((node) => node.path === (path ? `${path} help` : 'help'));
    const commandsOf = (commands: readonly Command[]) => commands.filter((sub) => sub.name() !== 'help');
    const mirror = (commands: readonly Command[], under: CompletionNode) => {
      under.words.unshift(...commandsOf(commands).map((sub): [string, string] => [sub.name(), sub.description()]));
      for (const command of commandsOf(commands)) {
        const node: CompletionNode = { path: `${under.path} ${command.name()}`, words: [], values: new Map() };
        nodes.push(node);
        mirror(command.createHelp().visibleCommands(command), node);
      }
    };
    if (helpNode) mirror(subcommands, helpNode);
  };
  visit(root, '');
  return nodes;
}

const flagsOf = (option: Option): string[] => [option.long, option.short].filter((flag): flag is string => Boolean(flag));

/** Choices when the option has them; file names when its placeholder names a file or path. */
function valueCompletion(option: Option): ValueCompletion {
  if (option.argChoices && option.argChoices.length > 0) return { kind: 'choices', choices: option.argChoices };
  return /<(?:[\w.-]*\.)?(?:path|file)>/i.test(option.flags) ? { kind: 'files' } : { kind: 'free' };
}

/** Single-quoted for bash and zsh: nothing inside is expanded. */
const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/** The `case` arms that walk the words typed so far down the command tree. */
function descentArms(nodes: readonly CompletionNode[]): string {
  const arms = nodes.flatMap((node) =>
    node.words.filter(([word]) => !word.startsWith('-') && nodes.some((n) => n.path === (node.path ? `${node.path} ${word}` : word))).map(([word]) => quote(`${node.path}:${word}`)),
  );
  return arms.length > 0 ? arms.join('|') : "''";
}

function valueArms(nodes: readonly CompletionNode[], render: (completion: ValueCompletion) => string): string {
  return nodes
    .flatMap((node) => [...node.values].map(([flag, completion]) => `    ${quote(`${node.path}:${flag}`)}) ${render(completion)} ;;`))
    .join('\n');
}

export function bashScript(name: string, nodes: readonly CompletionNode[]): string {
  const fn = `_${name.replace(/\W/g, '_')}_completion`;
  const wordArms = nodes.map((node) => `    ${quote(node.path)}) words=${quote(node.words.map(([word]) => word).join(' '))} ;;`).join('\n');
  return `# bash completion for ${name}, generated by \`${name} completion bash\` from its commands and options.
# Load it in this shell:  source <(${name} completion bash)

# COMPREPLY from compgen, one line per candidate (file names with spaces stay whole; bash 3.2 has no mapfile).
${fn}_reply() {
  local line
  COMPREPLY=()
  while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen "$@" -- "$cur")
}

${fn}() {
  local cur prev cmd_path word words i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev=""
  [ "$COMP_CWORD" -gt 0 ] && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  # --option=value: bash breaks the word at '=' (COMP_WORDBREAKS), so the option is the word before
  # it (only an option's: an '=' inside a free-text value, --reason a=b, is left as it is).
  if [ "$cur" = "=" ] && [[ "$prev" == --* ]]; then
    cur=""
  elif [ "$prev" = "=" ] && [ "$COMP_CWORD" -gt 1 ] && [[ "\${COMP_WORDS[COMP_CWORD-2]}" == --* ]]; then
    prev="\${COMP_WORDS[COMP_CWORD-2]}"
  fi
  cmd_path=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case "$cmd_path:$word" in
      ${descentArms(nodes)}) cmd_path="\${cmd_path:+$cmd_path }$word" ;;
    esac
  done
  case "$cmd_path:$prev" in
${valueArms(nodes, (c) =>
  c.kind === 'choices'
    ? `${fn}_reply -W ${quote(c.choices.join(' '))}; return 0`
    : c.kind === 'files'
      ? `compopt -o filenames 2>/dev/null; ${fn}_reply -f; return 0`
      : 'COMPREPLY=(); return 0',
)}
  esac
  words=""
  case "$cmd_path" in
${wordArms}
  esac
  ${fn}_reply -W "$words"
  return 0
}
complete -F ${fn} ${name}
`;
}

export function zshScript(name: string, nodes: readonly CompletionNode[]): string {
  const fn = `_${name.replace(/\W/g, '_')}`;
  // _describe reads "word:description"; a colon inside the word itself would need escaping.
  const item = ([word, description]: [string, string]) => quote(`${word.replace(/:/g, '\\:')}:${description.replace(/\s+/g, ' ')}`);
  const wordArms = nodes.map((node) => `    ${quote(node.path)}) items=(${node.words.map(item).join(' ')}) ;;`).join('\n');
  return `#compdef ${name}
# zsh completion for ${name}, generated by \`${name} completion zsh\` from its commands and options.
# Load it in this shell (after compinit):  source <(${name} completion zsh)
${fn}() {
  local cmd_path="" word prev i
  local -a items
  for ((i = 2; i < CURRENT; i++)); do
    word="\${words[i]}"
    case "$cmd_path:$word" in
      ${descentArms(nodes)}) cmd_path="\${cmd_path:+$cmd_path }$word" ;;
    esac
  done
  prev="\${words[CURRENT-1]}"
  # --option=value typed as one word: its value is completed after the '='.
  if [[ "\${words[CURRENT]}" == --*=* ]]; then
    prev="\${words[CURRENT]%%=*}"
    compset -P '*='
  fi
  case "$cmd_path:$prev" in
${valueArms(nodes, (c) =>
  c.kind === 'choices'
    ? `compadd -- ${c.choices.map(quote).join(' ')}; return`
    : c.kind === 'files'
      ? '_files; return'
      : "_message 'a value'; return",
)}
  esac
  case "$cmd_path" in
${wordArms}
  esac
  _describe -t commands ${quote(name)} items
}
if [ "\${funcstack[1]}" = "${fn}" ]; then
  ${fn} "$@"
else
  compdef ${fn} ${name}
fi
`;
}
