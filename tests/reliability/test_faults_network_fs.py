"""A database on a network file system is refused: SQLite's WAL mode keeps its index in shared
memory (the -shm file), which only works between processes of one machine.

The file system is read from /proc/self/mountinfo; here sample lines stand in for it, given to
the pure parser and to make_engine itself.
"""

from __future__ import annotations

import pytest

from mesomix.db.engine import make_engine
from mesomix.db.faults import DatabaseRefused
from mesomix.db.health import filesystem_type, parse_mountinfo

MOUNTINFO = """\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683656k
61 27 0:52 / /srv/clinic rw,relatime shared:40 - nfs4 fileserver:/export/clinic rw,vers=4.2
62 61 0:53 / /srv/clinic/local rw,relatime - ext4 /dev/vdb rw
63 27 0:54 / /mnt/shared\\040drive rw,relatime shared:41 master:7 - cifs //nas/share rw,vers=3.0
64 27 0:55 / /home/ana/remote rw,nosuid,nodev - fuse.sshfs ana@host:/data rw,user_id=1000
65 27 0:56 / /mnt/wsl rw,noatime - 9p drvfs rw,dirsync,aname=drvfs
66 27 0:57 / /srv/clinic rw,relatime - ext4 /dev/vdc rw
this line is not a mount
"""


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/var/lib/mesomix/mesomix.sqlite", "ext4"),
        ("/dev/shm/mesomix.sqlite", "tmpfs"),
        ("/srv/clinic/local/db.sqlite", "ext4"),  # a local disk mounted inside the share
        ("/srv/clinicx/db.sqlite", "ext4"),  # a longer name is not inside /srv/clinic
        ("/mnt/shared drive/mesomix.sqlite", "cifs"),  # \040 is a space
        ("/home/ana/remote/mesomix.sqlite", "fuse.sshfs"),
        ("/mnt/wsl/c/mesomix.sqlite", "9p"),
    ],
)
def test_the_file_system_of_a_path(path, kind):
    assert filesystem_type(path, MOUNTINFO) == kind


def test_a_later_mount_on_the_same_point_covers_the_earlier_one():
    assert filesystem_type("/srv/clinic/db.sqlite", MOUNTINFO) == "ext4"
    assert filesystem_type("/srv/clinic/db.sqlite", MOUNTINFO.replace("66 27", "#")) == "nfs4"


def test_unreadable_lines_are_skipped():
    assert len(parse_mountinfo(MOUNTINFO)) == 9
    assert parse_mountinfo("") == [] and filesystem_type("/x", "") is None


def test_make_engine_refuses_a_folder_on_nfs_and_says_what_to_use(tmp_path):
    nfs = f"1 0 0:99 / {tmp_path} rw - nfs4 fileserver:/export rw\n"
    target = tmp_path / "not yet" / "mesomix.sqlite"  # its folder is made only once accepted
    with pytest.raises(DatabaseRefused) as refused:
        make_engine(f"sqlite:///{target}", mountinfo=MOUNTINFO + nfs)
    assert str(refused.value) == (
        f"{tmp_path} is on a network file system (nfs4): SQLite's WAL mode needs shared memory "
        "on one machine; use PostgreSQL for shared databases (MESOMIX_DATABASE_URL)"
    )
    assert not target.parent.exists()
    local = f"1 0 0:99 / {tmp_path} rw - ext4 /dev/vdb rw\n"
    make_engine(f"sqlite:///{target}", mountinfo=MOUNTINFO + local).dispose()
    assert target.parent.is_dir()
