// Public surface of cli: filled by its issue.
export {};
