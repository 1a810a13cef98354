// Public surface of coordinator: filled by its issue.
export {};
