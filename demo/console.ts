/**
 * The demo's console: each line labelled with the time since the start and
 * the step it belongs to, so a newcomer sees which stage says what. Stage log
 * lines lose their own ISO timestamp (the elapsed time says more here).
 */

const STAGE_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z /;
/** The AWS SDK warns about Node 20 at every stage start: once is enough. */
const NODE_VERSION_WARNING = /NodeVersionSupportWarning/;
/** Packer echoes every tag of the instance, AMI and snapshot (~40 lines a bake): the bake's own summary says what matters. */
const PACKER_TAG_LINE = /\[bake:packer\]\s+amazon-ebs\.\w+: Adding tag: /;

export interface DemoConsole {
  show(label: string, line: string): void;
}

/** `verbose` shows every line, the repetitive ones too. */
export function createDemoConsole(write: (text: string) => void, started = Date.now(), verbose = false): DemoConsole {
  let warned = false;
  return {
    show(label, line) {
      if (!verbose && PACKER_TAG_LINE.test(line)) return;
      if (!verbose && NODE_VERSION_WARNING.test(line)) {
        if (warned) return;
        warned = true;
      }
      const elapsed = Math.floor((Date.now() - started) / 1000);
      const clock = `${String(Math.floor(elapsed / 60)).padStart(2, '0')}:${String(elapsed % 60).padStart(2, '0')}`;
      write(`${clock} ${label.padEnd(21)} │ ${line.replace(STAGE_TIMESTAMP, '')}\n`);
    },
  };
}
