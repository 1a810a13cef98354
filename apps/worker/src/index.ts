// Public surface of worker: filled by its issue.
export {};
