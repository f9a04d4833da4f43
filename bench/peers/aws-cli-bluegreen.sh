#!/usr/bin/env bash
# The peer of `npm run bench`: a minimal blue/green deploy with the AWS CLI, as
# a Jenkins user writes it by hand. New launch template + ASG in the target
# group, `aws elbv2 wait target-in-service`, then detach every older ASG of the
# app from the target group and delete it. No lock, no ledger, no rollback: on
# a failed wait it exits 1 and leaves what it made.
#
# Usage: aws-cli-bluegreen.sh APP AMI_ID COUNT
# Environment: AWS_ENDPOINT_URL (passed as --endpoint-url: the CLI v2 ignores
# the variable), AWS credentials/region, TARGET_GROUP_ARN, SUBNETS (comma
# separated), SECURITY_GROUP, WAIT_TIMEOUT (seconds around the waiter, default
# none: the waiter alone gives up after 40 × 15 s = 600 s), AWS_CLI (the aws
# command, default `aws`; the bench passes the v2 it found).
set -euo pipefail
app=$1 ami=$2 count=$3
aws=${AWS_CLI:-aws}
aws_() { "$aws" --endpoint-url "$AWS_ENDPOINT_URL" --output text "$@"; }

new="$app-$(date +%s%N)"
old=$(aws_ autoscaling describe-auto-scaling-groups \
  --query "AutoScalingGroups[?starts_with(AutoScalingGroupName, '$app-')].AutoScalingGroupName")

aws_ ec2 create-launch-template --launch-template-name "$new" \
  --launch-template-data "{\"ImageId\":\"$ami\",\"InstanceType\":\"t3.micro\",\"SecurityGroupIds\":[\"$SECURITY_GROUP\"]}" >/dev/null
aws_ autoscaling create-auto-scaling-group --auto-scaling-group-name "$new" \
  --launch-template "LaunchTemplateName=$new,Version=\$Latest" \
  --min-size "$count" --max-size "$count" --desired-capacity "$count" \
  --vpc-zone-identifier "$SUBNETS" --target-group-arns "$TARGET_GROUP_ARN" \
  --health-check-type ELB --health-check-grace-period 300
echo "created $new"

# Every registered target (old and new) in service.
if [ -n "${WAIT_TIMEOUT:-}" ]; then
  timeout "$WAIT_TIMEOUT" "$aws" --endpoint-url "$AWS_ENDPOINT_URL" elbv2 wait target-in-service --target-group-arn "$TARGET_GROUP_ARN"
else
  "$aws" --endpoint-url "$AWS_ENDPOINT_URL" elbv2 wait target-in-service --target-group-arn "$TARGET_GROUP_ARN"
fi
echo "$new in service"

for group in $old; do
  aws_ autoscaling detach-load-balancer-target-groups --auto-scaling-group-name "$group" --target-group-arns "$TARGET_GROUP_ARN"
  aws_ autoscaling delete-auto-scaling-group --auto-scaling-group-name "$group" --force-delete
  echo "deleted $group"
done
