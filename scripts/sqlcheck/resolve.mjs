// A module resolve hook for dt-sql-parser, whose ES module build imports directories and files
// without their ".js" (as bundlers allow and Node does not): a relative import Node cannot
// resolve is tried again as FILE.js, then as DIR/index.js.
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    const unresolved = err.code === 'ERR_UNSUPPORTED_DIR_IMPORT' || err.code === 'ERR_MODULE_NOT_FOUND';
    if (!specifier.startsWith('.') || !unresolved) {
      throw err;
    }
    for (const candidate of [specifier + '.js', specifier + '/index.js']) {
      try {
        return await next(candidate, context);
      } catch {
        // not this one
      }
    }
    throw err;
  }
}
