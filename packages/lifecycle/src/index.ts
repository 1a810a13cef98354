// Public surface of lifecycle: filled by its issue.
export {};
