"""Pure stage logic: text in, result out. No boto3 here."""
