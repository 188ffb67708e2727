#include <tmpf.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    tmpf_dir *d = tmpf_temporary_directory(NULL);
    if (!d)
        return 1;
    printf("%s %s\n", tmpf_version(), tmpf_dir_path(d));
    return tmpf_dir_cleanup(d) == 0 && strcmp(tmpf_version(), TMPF_VERSION_STRING) == 0 ? 0 : 1;
}
