// Public surface of store-pg: filled by its issue.
export {};
