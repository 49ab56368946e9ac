// Types of scripts/sync-entries.js for test/package/entries.test.ts.
export function disagreements(): string[];
