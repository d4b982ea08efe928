export async function handler(_event: unknown): Promise<void> {
  // placeholder so projen discovers the entry point; replaced by the real handler
}
