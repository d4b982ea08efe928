"""A Python CDK app using cdk-ecs-public-discovery, synthesized by `npx projen smoke:python`.

It shows that Python users get the pre-bundled Lambda asset from the wheel (no esbuild, no
Docker), that validation errors surface as Python exceptions, and prints what was synthesized.
"""
import os
import sys

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2, aws_ecs as ecs, aws_route53 as route53
from cdk_ecs_public_discovery import EcsPublicDiscovery

outdir = sys.argv[1] if len(sys.argv) > 1 else "cdk.out"
app = cdk.App(outdir=outdir)
stack = cdk.Stack(app, "GameStack", env=cdk.Environment(account="123456789012", region="eu-west-1"))

vpc = ec2.Vpc(stack, "Vpc", nat_gateways=0,
              subnet_configuration=[ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC)])
cluster = ecs.Cluster(stack, "Cluster", vpc=vpc)
zone = route53.HostedZone.from_hosted_zone_attributes(
    stack, "Zone", hosted_zone_id="Z1R8UBAEXAMPLE", zone_name="example.com")

discovery = EcsPublicDiscovery(stack, "Discovery", cluster=cluster, hosted_zone=zone)

task_definition = ecs.FargateTaskDefinition(stack, "Server")
task_definition.add_container("server", image=ecs.ContainerImage.from_registry("nginx"),
                              port_mappings=[ecs.PortMapping(container_port=80)])
service = ecs.FargateService(stack, "Service", cluster=cluster, task_definition=task_definition,
                             assign_public_ip=True)
discovery.add_service(service=service, name="mc", dns_ttl=cdk.Duration.seconds(30))

try:
    discovery.add_service(service=service, name="again")
    raise SystemExit("expected registering the same service twice to fail")
except RuntimeError as err:
    print("validation error raised in Python:", str(err).splitlines()[0][:140])

assembly = app.synth()
template = assembly.get_stack_by_name("GameStack").template
functions = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
assets = [d for d in os.listdir(outdir) if d.startswith("asset.")]
bundle_sizes = [os.path.getsize(os.path.join(outdir, d, "index.mjs")) for d in assets]
print("functions:", [(f["Runtime"], f["Architectures"]) for f in functions])
print("lambda assets taken from the wheel:", len(assets), "bundle bytes:", bundle_sizes)
if not functions or not all(size > 0 for size in bundle_sizes) or not assets:
    raise SystemExit("the synthesized app lacks the discovery function or its bundled code")
print("python smoke test passed")
