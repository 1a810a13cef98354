// Placeholder until the stack script lands (issue 2); replaced by the real setup.
module.exports = async () => {};
