import { defaultOf, type InputDeclarations, type InputSpec } from './declare';
import { STAGE_INPUTS } from './index';
import { STAGES } from '../list';

/**
 * The input tables of `vars/<step>.txt` (Jenkins' step help, HTML) and of the
 * README (Markdown), generated from the declarations between markers:
 * `npm run docs:inputs` writes them, a unit test checks they are fresh.
 */

/** The Jenkins step of each stage that has one (`vars/<step>.groovy`), from {@link STAGES}. */
export const STEP_OF_STAGE: Readonly<Record<string, string>> = Object.fromEntries(
  STAGES.flatMap((stage) => (stage.step === undefined ? [] : [[stage.name, stage.step]])),
);

const SOURCE_NOTE = 'generated from src/stages/inputs by `npm run docs:inputs`; edit there';
const PROJECT_DEFAULTS =
  'Defaults for any of these can also come from .bluegreen.json in the workspace, per cluster or for all (see the README).';
const DURATIONS = 'Durations take seconds (600) or "90s", "15m", "1h".';

/** The markers around a generated section: in `vars/*.txt` one section per file, in the README one per stage. */
export function markers(stage?: string): { begin: string; end: string } {
  const name = stage === undefined ? 'inputs' : `inputs:${stage}`;
  return { begin: `<!-- ${name}:begin (${SOURCE_NOTE}) -->`, end: `<!-- ${name}:end -->` };
}

function typeOf(spec: InputSpec): string {
  if (spec.docType) return spec.docType;
  switch (spec.kind) {
    case 'string':
      return spec.choices ? spec.choices.map((choice) => `'${choice}'`).join(' or ') : 'String';
    case 'number':
    case 'integer':
      return 'Number';
    case 'boolean':
      return 'Boolean';
    case 'duration':
      return 'Duration';
    case 'list':
      return 'List';
    case 'object':
      return 'Map';
    case 'ledger':
      return 'String or Map';
  }
}

/** "required", "required on the first deploy", "default 10m", "step default env.BUILD_URL". */
function notesOf(spec: InputSpec): string[] {
  const notes: string[] = [];
  if (spec.required === true) notes.push('required');
  else if (typeof spec.required === 'string') notes.push(`required ${spec.required}`);
  const fallback = defaultOf(spec);
  if (fallback !== undefined) notes.push(`default ${fallback}`);
  if (spec.stepDefault) notes.push(`the step passes ${spec.stepDefault}`);
  if (spec.secret) notes.push('never echoed in messages');
  return notes;
}

function sentence(text: string): string {
  return text.endsWith('.') ? text : `${text}.`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function hasDurations(inputs: InputDeclarations): boolean {
  return Object.values(inputs).some((spec) => spec.kind === 'duration');
}

/** The HTML input list of a step's help (between the markers of `vars/<step>.txt`). */
export function varsSection(inputs: InputDeclarations): string {
  const { begin, end } = markers();
  const lines = [begin, '<dl>'];
  for (const [name, spec] of Object.entries(inputs)) {
    const meta = [typeOf(spec), ...notesOf(spec)].join('; ');
    lines.push(`  <dt><code>${name}</code> (${escapeHtml(meta)})</dt>`);
    lines.push(`  <dd>${escapeHtml(sentence(spec.describe))}</dd>`);
  }
  lines.push('</dl>');
  if (hasDurations(inputs)) lines.push(`<p>${escapeHtml(DURATIONS)}</p>`);
  lines.push(`<p>${escapeHtml(PROJECT_DEFAULTS)}</p>`);
  lines.push(end);
  return lines.join('\n');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The Markdown input table of a stage in the README. */
export function readmeSection(stage: string, inputs: InputDeclarations): string {
  const { begin, end } = markers(stage);
  const lines = [begin, '', '| input | type | required / default | what |', '|---|---|---|---|'];
  for (const [name, spec] of Object.entries(inputs)) {
    lines.push(
      `| \`${name}\` | ${escapeCell(typeOf(spec))} | ${escapeCell(notesOf(spec).join('; '))} | ${escapeCell(sentence(spec.describe))} |`,
    );
  }
  if (hasDurations(inputs)) lines.push('', DURATIONS);
  lines.push('', end);
  return lines.join('\n');
}

/** `text` with the part between the markers (markers included) replaced by `section`; throws when the markers are missing. */
export function replaceSection(
  text: string,
  marks: { begin: string; end: string },
  section: string,
  file: string,
): string {
  const beginPrefix = marks.begin.slice(0, marks.begin.indexOf(' ('));
  const start = text.indexOf(beginPrefix);
  const stop = text.indexOf(marks.end);
  if (start < 0 || stop < start) throw new Error(`${file}: no ${beginPrefix} … ${marks.end} section to generate into`);
  return text.slice(0, start) + section + text.slice(stop + marks.end.length);
}

/** Every generated file's expected content, from its current content: file path (relative to the repo) → text. */
export function generatedDocs(read: (file: string) => string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [stage, step] of Object.entries(STEP_OF_STAGE)) {
    const file = `vars/${step}.txt`;
    files[file] = replaceSection(read(file), markers(), varsSection(STAGE_INPUTS[stage] as InputDeclarations), file);
  }
  let readme = read('README.md');
  for (const [stage, inputs] of Object.entries(STAGE_INPUTS)) {
    readme = replaceSection(readme, markers(stage), readmeSection(stage, inputs), 'README.md');
  }
  files['README.md'] = readme;
  return files;
}
