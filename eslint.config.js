// Lint rules, including the layer boundaries from docs/ARCHITECTURE.md: the agent (what ships in
// the image) never imports the infra or the providers, and they never import the agent.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const boundary = (from, forbidden) => ({
  files: [`${from}/**/*.ts`],
  rules: {
    "no-restricted-imports": [
      "error",
      {
        patterns: forbidden.map((layer) => ({
          group: [`**/${layer}/*`, `**/${layer}`],
          message: `${from}/ must not import ${layer}/ (see docs/ARCHITECTURE.md, "Imports point one way").`,
        })),
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ["node_modules/", ".ci/.node/", "result/", "dist/", "**/*.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // No rule here reads JSDoc types, and not parsing JSDoc makes a cold lint (CI) 14 -> 12 CPU-s.
  { languageOptions: { parserOptions: { jsDocParsingMode: "none" } } },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-explicit-any": "error",
      eqeqeq: ["error", "smart"],
      "no-console": "off",
    },
  },
  boundary("agent", ["infra", "providers", "cli"]),
  boundary("infra", ["agent", "cli"]),
  boundary("providers", ["agent", "infra", "cli"]),
  boundary("test/fakes", ["agent", "infra", "providers", "cli"]),
  // npm test runs each test folder's files in one process (--test-isolation=none), where a hook at
  // a file's top level attaches to the shared root test: it runs for every file's tests, and not
  // necessarily before its own file's tests.
  {
    files: ["test/**/*.test.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "Program > ExpressionStatement > CallExpression[callee.name=/^(before|after|beforeEach|afterEach)$/]",
          message:
            "A top-level hook is shared by every test file in the folder's process (npm test runs a folder per process): put it inside the file's describe().",
        },
      ],
    },
  },
);
