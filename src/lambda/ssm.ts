/**
 * The SSM part of the AWS adapters, loaded on demand (`import('./ssm')`): only constructs whose registrations
 * outgrow the function's environment read them from SSM parameters, so the others never load this client.
 */
import { GetParametersCommand, SSMClient, SSMClientConfig } from '@aws-sdk/client-ssm';

/** A client for the given settings. */
export function ssmClient(config: SSMClientConfig): SSMClient {
  return new SSMClient(config);
}

/** One GetParameters request. */
export async function getParameters(client: SSMClient, names: string[]): Promise<Array<{ Name?: string; Value?: string }>> {
  const res = await client.send(new GetParametersCommand({ Names: names }));
  return res.Parameters ?? [];
}
