/// A configuration value with the line it came from, kept while decoding so that checks
/// which compare several values (duplicates, first burst <= max burst) can point at the
/// right line.
struct Located<Value> {
    var value: Value
    var line: Int
}
