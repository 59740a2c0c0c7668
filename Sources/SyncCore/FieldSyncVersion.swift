/// The version of this FieldSync build, reported in heartbeats and `--version`.
public enum FieldSyncVersion {
    public static let current = "0.2.0"
}
