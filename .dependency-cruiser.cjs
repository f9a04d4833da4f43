// @ts-check
/* global module */
// `npm run lint` (and test/run-all.sh) run `depcruise src`: no import cycle anywhere in src/ (type-only
// imports count too), and "layers only call down" as docs/architecture.md draws them.

/**
 * The layers of src/, top first. A folder may import its own files and any folder of a lower layer;
 * folders of one layer stand beside each other and never import one another.
 */
const LAYERS = [
  ['bin', 'sandbox'],
  ['stages'],
  ['rollout'],
  ['rollback', 'status', 'publish', 'bake'],
  ['deploy'],
  ['verify'],
  ['ledger'],
  ['cluster'],
  ['traffic'],
  ['aws'],
  ['core'],
];

/** One rule per layer: nothing in it imports a folder of its own layer (but itself) or of a layer above. */
const layerRules = LAYERS.flatMap((layer, rank) =>
  layer.map((folder) => {
    const notBelow = LAYERS.slice(0, rank + 1)
      .flat()
      .filter((other) => other !== folder);
    return {
      name: `layer-${folder}`,
      comment: `src/${folder} may import only layers below it (docs/architecture.md, "Engine modules"): not ${notBelow.join(', ')}`,
      severity: 'error',
      from: { path: `^src/${folder}/` },
      to: { path: `^src/(${notBelow.join('|')})/` },
    };
  }),
);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle: break it by moving the shared part down a layer',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-unknown-folder',
      comment: 'Every folder of src/ has a layer: add it to LAYERS here and to docs/architecture.md',
      severity: 'error',
      from: { path: '^src/[^/]+/', pathNot: `^src/(${LAYERS.flat().join('|')})/` },
      to: {},
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|resources)/' },
    // Type-only imports are dependencies too: a type cycle is a design cycle.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6', 'cjs'],
  },
};
