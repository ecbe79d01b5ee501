// ESLint flat config: the rules STYLE.md asks for (named exports, import type, no unexplained any,
// awaited promises, exhaustive switches, typed module boundaries) and the import boundaries of
// ARCHITECTURE.md. Type-aware rules use each file's nearest tsconfig (projectService).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Reaching into another workspace's source instead of its package exports. */
const APP_SOURCES = {
  regex: String.raw`^(\.\./)+apps/[^/]+/src/`,
  message: "Import the app's package (@sori/server, @sori/cli) instead of its src files.",
};
const TS_MLS = {
  group: ["ts-mls", "ts-mls/*"],
  message: "Only packages/crypto imports ts-mls (ARCHITECTURE.md): use @sori/crypto.",
};
const APPS = {
  group: ["@sori/server", "@sori/server/*", "@sori/cli", "@sori/cli/*", "@sori/web", "@sori/web/*"],
  message: "Libraries do not depend on apps.",
};

export default tseslint.config(
  {
    ignores: [
      "**/node_modules/**",
      "**/sori-data/**",
      "**/test-output/**",
      "bench/results/**",
      "apps/web/dist/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts", "**/*.tsx", "**/*.js"],
    languageOptions: { ecmaVersion: 2024, sourceType: "module" },
    rules: {
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-syntax": [
        "error",
        { selector: "ExportDefaultDeclaration", message: "Use named exports (STYLE.md)." },
        { selector: "TSEnumDeclaration", message: "Enums are not erasable syntax; use a union of literals." },
      ],
      // A soft limit: a file past it probably holds more than one concept (STYLE.md).
      "max-lines": ["warn", { max: 800, skipBlankLines: true, skipComments: true }],
      "no-restricted-imports": ["error", { patterns: [APP_SOURCES, TS_MLS] }],
    },
  },
  {
    files: ["**/*.ts", "**/*.tsx"],
    languageOptions: {
      parserOptions: {
        // The Vite config is in no tsconfig: it gets a default project.
        projectService: { allowDefaultProject: ["apps/web/vite.config.ts"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          // node:test's describe() and it() return promises the runner awaits itself.
          allowForKnownSafeCalls: [
            {
              from: "package",
              package: "node:test",
              name: ["describe", "it", "test", "suite", "before", "after"],
            },
          ],
        },
      ],
      "@typescript-eslint/switch-exhaustiveness-check": [
        "error",
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      "@typescript-eslint/explicit-module-boundary-types": "error",
    },
  },
  {
    files: ["packages/crypto/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [APP_SOURCES, APPS] }] },
  },
  {
    files: ["packages/protocol/**", "packages/sdk/**", "apps/web/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [APP_SOURCES, TS_MLS, APPS] }] },
  },
  {
    // Tests of one file sit beside it and may be long; scripts and configs are not typed modules.
    files: ["**/*.test.ts", "**/*.test.tsx"],
    rules: { "max-lines": "off" },
  },
  {
    // Node globals for scripts that run only in Node.
    files: [
      "apps/**",
      "bench/**",
      "tests/**",
      "tools/**",
      "**/*.test.ts",
      "**/*.node.ts",
      "eslint.config.js",
    ],
    languageOptions: { globals: { process: "readonly", Buffer: "readonly", console: "readonly" } },
  },
  {
    files: ["eslint.config.js"],
    rules: { "no-restricted-syntax": "off" },
  },
);
