// Public surface of sdk: filled by its issue.
export {};
