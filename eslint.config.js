// ESLint flat config: the rules STYLE.md asks for (named exports, import type, no unexplained any).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

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
    files: ["**/*.ts", "**/*.js"],
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
    },
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
